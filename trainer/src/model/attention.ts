// Causal multi-head self-attention as in GPT-2, written with 3-D batched products only: tfjs 4.22's
// einsum has no gradient, and a 3-D × 2-D BatchMatMul's gradient fails, so q·kᵀ and att·v run on
// [batch·heads, tokens, headSize] tensors and every projection is a 2-D product (denseMatMul).
import * as tf from '@tensorflow/tfjs-core';
import { adaptedMatMul, type Adapter } from './lora.ts';
import { addBias, seededDropout } from './ops.ts';

/** Added to the scores of future positions: exp(−1e9 − max) is exactly 0 in float32. */
const MASKED = -1e9;

export interface AttentionWeights {
  /** [width, 3·width]: queries, keys and values side by side, as GPT-2's c_attn. */
  qkvKernel: tf.Tensor;
  qkvBias?: tf.Tensor;
  /** [width, width]: the output projection (c_proj). */
  projectionKernel: tf.Tensor;
  projectionBias?: tf.Tensor;
  /** LoRA adapters of the two kernels (model/lora.ts). */
  qkvAdapter?: Adapter;
  projectionAdapter?: Adapter;
}

export interface AttentionOptions {
  heads: number;
  /** Dropout on the attention weights (training only). */
  dropout: number;
  training: boolean;
  dropoutSeed: number;
}

/** x: [batch, tokens, width] → [batch, tokens, width]; position t attends to positions ≤ t only. */
export function causalSelfAttention(x: tf.Tensor, weights: AttentionWeights, options: AttentionOptions): tf.Tensor {
  const [batch, tokens, width] = x.shape as [number, number, number];
  const { heads } = options;
  const headSize = width / heads;
  const qkv = addBias(adaptedMatMul(x, weights.qkvKernel, weights.qkvAdapter), weights.qkvBias);
  const [q, k, v] = tf.split(qkv, 3, 2) as [tf.Tensor, tf.Tensor, tf.Tensor];
  const toHeads = (t: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [batch, tokens, heads, headSize]), [0, 2, 1, 3]), [batch * heads, tokens, headSize]) as tf.Tensor3D;
  const scores = tf.mul(tf.matMul(toHeads(q), toHeads(k), false, true), 1 / Math.sqrt(headSize));
  const masked = tf.add(scores, causalMask(tokens));
  const attention = seededDropout(tf.softmax(masked), options.dropout, options.training, options.dropoutSeed);
  const mixed = tf.matMul(attention as tf.Tensor3D, toHeads(v));
  const merged = tf.reshape(tf.transpose(tf.reshape(mixed, [batch, heads, tokens, headSize]), [0, 2, 1, 3]), [batch, tokens, width]);
  return addBias(adaptedMatMul(merged, weights.projectionKernel, weights.projectionAdapter), weights.projectionBias);
}

/** [tokens, tokens]: 0 where the key position is at or before the query position, MASKED after it. */
export function causalMask(tokens: number): tf.Tensor2D {
  const values = new Float32Array(tokens * tokens);
  for (let query = 0; query < tokens; query++) values.fill(MASKED, query * tokens + query + 1, (query + 1) * tokens);
  return tf.tensor2d(values, [tokens, tokens]);
}
