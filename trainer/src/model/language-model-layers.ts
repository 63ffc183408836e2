// The layers of a GPT (embedding, positionalEmbedding, transformerBlock, lmHead) over our own
// tf.Variables, initialised as nanoGPT does: N(0, 0.02), the residual projections
// N(0, 0.02/√(2·blocks)), biases 0, LayerNorm gains 1. Every draw is seeded by (job seed, layer,
// slot) and a repeated block is a layer of its own, so initialisation does not depend on the partition.
import * as tf from '@tensorflow/tfjs-core';
import type { LayerSpec } from '../api/schema.ts';
import { causalSelfAttention } from './attention.ts';
import type { ApplyContext, Layer, NamedVariable } from './layers.ts';
import { adaptedMatMul, createAdapter } from './lora.ts';
import { layerTargets, type LoraSpec } from './lora-targets.ts';
import { addBias, denseMatMul, geluTanh, layerNorm, seededDropout } from './ops.ts';
import { mixSeed } from './seeds.ts';

const INIT_STD = 0.02;
/** GPT-2's LayerNorm epsilon. */
const BLOCK_EPSILON = 1e-5;

type LanguageModelLayer = Extract<LayerSpec, { type: 'embedding' | 'positionalEmbedding' | 'transformerBlock' | 'lmHead' | 'classificationHead' }>;

export interface LanguageModelContext {
  seed: number;
  /** Transformer blocks in the whole model (not just this stage): scales the residual projections. */
  blocks: number;
  /** The model's embedding, which a tied lmHead copies. */
  embedding?: { index: number; vocabSize: number; units: number };
  /** spec.training.lora: adapters on the targeted products. */
  lora?: LoraSpec;
}

/** Creates a variable named `<layer prefix>/<suffix>`, or exactly `name` when given (the tied copy). */
export type WeightFactory = (suffix: string, value: tf.Tensor, options?: { name?: string; tiedCopy?: boolean; adapter?: true }) => NamedVariable;

/** Name of the embedding matrix of the layer at `index`: also the name of a tied head's copy. */
export function embeddingWeightName(index: number): string {
  return `layer${index}_embedding/embeddings`;
}

export function buildLanguageModelLayer(index: number, spec: LanguageModelLayer, inShape: number[], context: LanguageModelContext, weight: WeightFactory): Layer {
  const normal = (shape: number[], slot: number, std = INIT_STD) => tf.randomNormal(shape, 0, std, 'float32', mixSeed(context.seed, index, slot));
  const width = inShape[inShape.length - 1]!;
  switch (spec.type) {
    case 'embedding': {
      const matrix = weight('embeddings', normal([spec.vocabSize!, spec.units], 0));
      return { index, spec, weights: [matrix], apply: (x) => embed(x, matrix.variable) };
    }
    case 'positionalEmbedding': {
      const table = weight('embeddings', normal([spec.maxLength, width], 0));
      return {
        index, spec, weights: [table],
        apply: (x, ctx) => {
          const positions = tf.slice(table.variable, [0, 0], [x.shape[1]!, width]);
          return seededDropout(tf.add(x, positions), spec.dropout, ctx.training, dropoutSeed(ctx, index, 0));
        },
      };
    }
    case 'transformerBlock':
      return transformerBlock(index, spec, width, context, weight, normal);
    case 'lmHead': {
      if (spec.tied) {
        const embedding = context.embedding;
        if (!embedding) throw new Error('a tied lmHead needs an embedding layer');
        // The same seed as the embedding's matrix: the copy starts bit-identical on any stage.
        const initial = tf.randomNormal([embedding.vocabSize, embedding.units], 0, INIT_STD, 'float32', mixSeed(context.seed, embedding.index, 0));
        const copy = weight('', initial, { name: embeddingWeightName(embedding.index), tiedCopy: true });
        return { index, spec, weights: [copy], apply: (x) => projectTransposed(x, copy.variable) };
      }
      const kernel = weight('kernel', normal([width, spec.vocabSize!], 0));
      return { index, spec, weights: [kernel], apply: (x) => denseMatMul(x, kernel.variable) };
    }
    case 'classificationHead': {
      // Glorot-uniform as a dense layer's, in the same seed slot: a fresh head is seeded like any layer.
      const limit = Math.sqrt(6 / (width + spec.classes));
      const kernel = weight('kernel', tf.randomUniform([width, spec.classes], -limit, limit, 'float32', mixSeed(context.seed, index, 0)));
      const bias = weight('bias', tf.zeros([spec.classes]));
      return { index, spec, weights: [kernel, bias], apply: (x) => tf.softmax(addBias(denseMatMul(lastPosition(x), kernel.variable), bias.variable)) };
    }
  }
}

/** [batch, tokens, width] → [batch, width]: the last position, the one causal attention let see every token. */
export function lastPosition(x: tf.Tensor): tf.Tensor {
  const [batch, tokens, width] = x.shape as [number, number, number];
  return tf.reshape(tf.slice(x, [0, tokens - 1, 0], [batch, 1, width]), [batch, width]);
}

function transformerBlock(index: number, spec: Extract<LayerSpec, { type: 'transformerBlock' }>, width: number, context: LanguageModelContext, weight: WeightFactory, normal: (shape: number[], slot: number, std?: number) => tf.Tensor): Layer {
  const hidden = spec.mlpRatio * width;
  const residualStd = INIT_STD / Math.sqrt(2 * context.blocks);
  const bias = (suffix: string, size: number) => (spec.useBias ? weight(suffix, tf.zeros([size])) : undefined);
  const ln1Gamma = weight('ln1/gamma', tf.ones([width]));
  const ln1Beta = bias('ln1/beta', width);
  const qkvKernel = weight('attention/qkv/kernel', normal([width, 3 * width], 0));
  const qkvBias = bias('attention/qkv/bias', 3 * width);
  const attentionKernel = weight('attention/projection/kernel', normal([width, width], 1, residualStd));
  const attentionBias = bias('attention/projection/bias', width);
  const ln2Gamma = weight('ln2/gamma', tf.ones([width]));
  const ln2Beta = bias('ln2/beta', width);
  const fcKernel = weight('mlp/fc/kernel', normal([width, hidden], 2));
  const fcBias = bias('mlp/fc/bias', hidden);
  const mlpKernel = weight('mlp/projection/kernel', normal([hidden, width], 3, residualStd));
  const mlpBias = bias('mlp/projection/bias', width);
  const base = [ln1Gamma, ln1Beta, qkvKernel, qkvBias, attentionKernel, attentionBias, ln2Gamma, ln2Beta, fcKernel, fcBias, mlpKernel, mlpBias].filter((w): w is NamedVariable => w !== undefined);
  // Adapters in the base kernels' seed slots (0..3), after the base weights in weight order.
  const targets = layerTargets(context.lora, spec);
  const adapt = (target: 'attention' | 'mlp', kernel: NamedVariable, suffix: string, slot: number) =>
    targets.includes(target) ? createAdapter(weight, context.lora!, context.seed, index, suffix, slot, kernel.variable.shape) : undefined;
  const qkvAdapter = adapt('attention', qkvKernel, 'attention/qkv/kernel', 0);
  const attentionAdapter = adapt('attention', attentionKernel, 'attention/projection/kernel', 1);
  const fcAdapter = adapt('mlp', fcKernel, 'mlp/fc/kernel', 2);
  const mlpAdapter = adapt('mlp', mlpKernel, 'mlp/projection/kernel', 3);
  const adapters = [qkvAdapter, attentionAdapter, fcAdapter, mlpAdapter].flatMap((adapter) => adapter?.weights ?? []);
  const value = (w: NamedVariable | undefined) => w?.variable;
  return {
    index, spec, weights: [...base, ...adapters], ...(adapters.length > 0 ? { adapted: true as const } : {}),
    apply: (x, ctx) => {
      const attended = causalSelfAttention(layerNorm(x, ln1Gamma.variable, value(ln1Beta), BLOCK_EPSILON), {
        qkvKernel: qkvKernel.variable, qkvBias: value(qkvBias), projectionKernel: attentionKernel.variable, projectionBias: value(attentionBias),
        ...(qkvAdapter ? { qkvAdapter: qkvAdapter.adapter } : {}), ...(attentionAdapter ? { projectionAdapter: attentionAdapter.adapter } : {}),
      }, { heads: spec.heads, dropout: spec.dropout, training: ctx.training, dropoutSeed: dropoutSeed(ctx, index, 0) });
      const afterAttention = tf.add(x, seededDropout(attended, spec.dropout, ctx.training, dropoutSeed(ctx, index, 1)));
      const expanded = geluTanh(addBias(adaptedMatMul(layerNorm(afterAttention, ln2Gamma.variable, value(ln2Beta), BLOCK_EPSILON), fcKernel.variable, fcAdapter?.adapter), value(fcBias)));
      const projected = addBias(adaptedMatMul(expanded, mlpKernel.variable, mlpAdapter?.adapter), value(mlpBias));
      return tf.add(afterAttention, seededDropout(projected, spec.dropout, ctx.training, dropoutSeed(ctx, index, 2)));
    },
  };
}

/** Dropout masks are fixed by (job seed, step, micro-batch, layer, site), so the recompute repeats them. */
function dropoutSeed(ctx: ApplyContext, index: number, site: number): number {
  return mixSeed(ctx.seed, ctx.step, ctx.microBatch, index, site);
}

/**
 * Rows of `matrix` for token ids x ([batch, tokens]). A gather's gradient is an UnsortedSegmentSum,
 * which tf/segment-sum-kernel.ts provides on cpu and wasm; without that kernel, one-hot · matrix
 * (a matMul, differentiable everywhere, but vocab times the work).
 */
function embed(x: tf.Tensor, matrix: tf.Tensor): tf.Tensor {
  const ids = x.dtype === 'int32' ? x : tf.cast(x, 'int32');
  if (tf.getKernel('UnsortedSegmentSum', tf.getBackend())) return tf.gather(matrix, ids);
  const [vocab, units] = matrix.shape as [number, number];
  const oneHot = tf.cast(tf.oneHot(tf.reshape(ids, [-1]) as tf.Tensor1D, vocab), 'float32') as tf.Tensor2D;
  return tf.reshape(tf.matMul(oneHot, matrix as tf.Tensor2D), [...ids.shape, units]);
}

/** x · matrixᵀ over the last axis: a tied head's logits, from the [vocab, width] embedding matrix. */
function projectTransposed(x: tf.Tensor, matrix: tf.Tensor): tf.Tensor {
  const lead = x.shape.slice(0, -1);
  const flat = tf.reshape(x, [-1, x.shape[x.rank - 1]!]) as tf.Tensor2D;
  return tf.reshape(tf.matMul(flat, matrix as tf.Tensor2D, false, true), [...lead, matrix.shape[0]!]);
}
