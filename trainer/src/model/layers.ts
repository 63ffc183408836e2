// Builds the model's layers from the spec as plain functions over our own tf.Variables.
// We do not use tf.layers: we need deterministic, partition-independent initialisation, explicit
// dropout seeds per (step, micro-batch, layer), unfused kernels (fused and unfused matmuls round
// differently on wasm, which would break forward/recompute equality) and stable weight order.
import * as tf from '@tensorflow/tfjs-core';
import type { LayerSpec } from '../api/schema.ts';
import { buildLanguageModelLayer, type LanguageModelContext, type WeightFactory } from './language-model-layers.ts';
import { adaptedMatMul, createAdapter } from './lora.ts';
import { layerTargets, type LoraSpec } from './lora-targets.ts';
import { activate, addBias as addBiasTensor, layerNorm } from './ops.ts';
import { inferLayerShapes } from './shapes.ts';
import { mixSeed } from './seeds.ts';

export { activate } from './ops.ts';

/** What a layer needs to know about the call it is part of. */
export interface ApplyContext {
  training: boolean;
  /** Job seed, optimizer step and micro-batch: together they fix the dropout mask. */
  seed: number;
  step: number;
  microBatch: number;
}

export interface NamedVariable {
  /** Stable name, e.g. `layer3_dense/kernel`; used in digests and checkpoints. */
  name: string;
  variable: tf.Variable;
  /**
   * A tied lmHead's copy of the embedding matrix: same name and values as the embedding's. Its
   * gradient is summed with the embedding's before every update (train/tied-weights.ts), so both
   * stay bit-identical; checkpoints and weight digests hold only the embedding's.
   */
  tiedCopy?: boolean;
  /** A LoRA adapter (model/lora.ts): trains while the kernel it adapts stays frozen. */
  adapter?: true;
}

export interface BuildOptions {
  /** spec.training.lora: adapters on the targeted kernels. */
  lora?: LoraSpec;
}

export interface Layer {
  index: number;
  spec: LayerSpec;
  weights: NamedVariable[];
  /** True when LoRA adapts this layer: its own (base) weights are frozen, its adapters train. */
  adapted?: true;
  apply(x: tf.Tensor, ctx: ApplyContext): tf.Tensor;
}

/**
 * Creates layers `from` (inclusive) to `to` (exclusive) of the model; others are not materialised.
 * `specs` is the expanded layer list (model/expand.ts) with vocabularies resolved (model/vocabulary.ts).
 */
export function buildLayers(inputShape: number[], specs: LayerSpec[], seed: number, from = 0, to = specs.length, options: BuildOptions = {}): Layer[] {
  const { outputShapes } = inferLayerShapes(inputShape, specs);
  const useIm2col = !tf.getKernel('Conv2DBackpropFilter', tf.getBackend());
  const context = languageModelContext(specs, seed, options.lora);
  const layers: Layer[] = [];
  for (let index = from; index < to; index++) {
    const spec = specs[index]!;
    const inShape = index === 0 ? inputShape : outputShapes[index - 1]!;
    layers.push(buildLayer(index, spec, inShape, seed, useIm2col, context));
  }
  return layers;
}

/** What language-model layers need to know about the whole model, whichever slice is built. */
function languageModelContext(specs: LayerSpec[], seed: number, lora: LoraSpec | undefined): LanguageModelContext {
  const index = specs.findIndex((spec) => spec.type === 'embedding');
  const embedding = specs[index];
  return {
    seed,
    ...(lora ? { lora } : {}),
    blocks: specs.filter((spec) => spec.type === 'transformerBlock').length,
    embedding: embedding?.type === 'embedding' ? { index, vocabSize: embedding.vocabSize!, units: embedding.units } : undefined,
  };
}

function buildLayer(index: number, spec: LayerSpec, inShape: number[], seed: number, useIm2col: boolean, context: LanguageModelContext): Layer {
  const prefix = `layer${index}_${spec.type}`;
  const weight: WeightFactory = (suffix, value, options = {}) => {
    const variable = tf.variable(value, true); // copies the initial value
    value.dispose();
    return { name: options.name ?? `${prefix}/${suffix}`, variable, ...(options.tiedCopy ? { tiedCopy: true } : {}), ...(options.adapter ? { adapter: true as const } : {}) };
  };
  const initSeed = (slot: number) => mixSeed(seed, index, slot);
  switch (spec.type) {
    case 'dense': {
      const fanIn = inShape[inShape.length - 1]!;
      const kernel = weight('kernel', glorotUniform([fanIn, spec.units], fanIn, spec.units, initSeed(0)));
      const bias = spec.useBias ? weight('bias', tf.zeros([spec.units])) : undefined;
      const lora = layerTargets(context.lora, spec).length > 0 ? createAdapter(weight, context.lora!, seed, index, 'kernel', 0, [fanIn, spec.units]) : undefined;
      return {
        index, spec, weights: [kernel, ...(bias ? [bias] : []), ...(lora?.weights ?? [])], ...(lora ? { adapted: true as const } : {}),
        apply: (x) => activate(addBias(adaptedMatMul(x, kernel.variable, lora?.adapter), bias), spec.activation),
      };
    }
    case 'conv2d': {
      const channels = inShape[2]!;
      const k = spec.kernelSize;
      const kernel = weight('kernel', glorotUniform([k, k, channels, spec.filters], k * k * channels, k * k * spec.filters, initSeed(0)));
      const bias = spec.useBias ? weight('bias', tf.zeros([spec.filters])) : undefined;
      const conv = useIm2col ? conv2dIm2col : conv2dNative;
      return {
        index, spec, weights: bias ? [kernel, bias] : [kernel],
        apply: (x) => activate(addBias(conv(x as tf.Tensor4D, kernel.variable as tf.Tensor4D, spec.strides, spec.padding), bias), spec.activation),
      };
    }
    case 'maxPooling2d':
      return {
        index, spec, weights: [],
        apply: (x) => tf.maxPool(x as tf.Tensor4D, spec.poolSize, spec.strides ?? spec.poolSize, spec.padding),
      };
    case 'flatten':
      return { index, spec, weights: [], apply: (x) => tf.reshape(x, [x.shape[0]!, -1]) };
    case 'dropout':
      return {
        index, spec, weights: [],
        apply: (x, ctx) => (ctx.training && spec.rate > 0 ? tf.dropout(x, spec.rate, undefined, mixSeed(ctx.seed, ctx.step, ctx.microBatch, index)) : x),
      };
    case 'activation':
      return { index, spec, weights: [], apply: (x) => activate(x, spec.activation) };
    case 'layerNormalization': {
      const size = inShape[inShape.length - 1]!;
      const gamma = weight('gamma', tf.ones([size]));
      const beta = spec.center ? weight('beta', tf.zeros([size])) : undefined;
      return { index, spec, weights: beta ? [gamma, beta] : [gamma], apply: (x) => layerNorm(x, gamma.variable, beta?.variable, spec.epsilon) };
    }
    case 'embedding':
    case 'positionalEmbedding':
    case 'transformerBlock':
    case 'lmHead':
    case 'classificationHead':
      return buildLanguageModelLayer(index, spec, inShape, context, weight);
  }
}

function glorotUniform(shape: number[], fanIn: number, fanOut: number, seed: number): tf.Tensor {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return tf.randomUniform(shape, -limit, limit, 'float32', seed);
}

function addBias(x: tf.Tensor, bias: NamedVariable | undefined): tf.Tensor {
  return addBiasTensor(x, bias?.variable);
}

function conv2dNative(x: tf.Tensor4D, kernel: tf.Tensor4D, strides: number, padding: 'valid' | 'same'): tf.Tensor {
  return tf.conv2d(x, kernel, strides, padding);
}

/**
 * Convolution as patches × matrix. The wasm backend of tfjs 4.22 has no Conv2DBackpropFilter
 * kernel, so conv2d cannot be trained there; slices, concat and matMul all have wasm gradients.
 * Patch order (kernel row, kernel column, channel) matches the [k, k, c, filters] kernel layout.
 */
function conv2dIm2col(x: tf.Tensor4D, kernel: tf.Tensor4D, strides: number, padding: 'valid' | 'same'): tf.Tensor {
  const [batch, height, width, channels] = x.shape;
  const [k, , , filters] = kernel.shape;
  const outH = padding === 'same' ? Math.ceil(height / strides) : Math.floor((height - k) / strides) + 1;
  const outW = padding === 'same' ? Math.ceil(width / strides) : Math.floor((width - k) / strides) + 1;
  let input: tf.Tensor4D = x;
  if (padding === 'same') {
    const padH = Math.max((outH - 1) * strides + k - height, 0);
    const padW = Math.max((outW - 1) * strides + k - width, 0);
    const top = Math.floor(padH / 2);
    const left = Math.floor(padW / 2);
    input = tf.pad(x, [[0, 0], [top, padH - top], [left, padW - left], [0, 0]]);
  }
  // Strided slices have no gradient in tfjs, so each patch plane is a plain slice of an
  // (outH·s)×(outW·s) window reshaped to [outH, s, outW, s] and sliced at offset 0 on the s axes.
  if (strides > 1) input = tf.pad(input, [[0, 0], [0, strides - 1], [0, strides - 1], [0, 0]]);
  const patches: tf.Tensor4D[] = [];
  for (let row = 0; row < k; row++) {
    for (let col = 0; col < k; col++) {
      const window = tf.slice(input, [0, row, col, 0], [batch, outH * strides, outW * strides, channels]);
      patches.push(strides === 1 ? (window as tf.Tensor4D) : takeEveryNth(window, batch, outH, outW, channels, strides));
    }
  }
  const columns = tf.reshape(tf.concat(patches, 3), [batch * outH * outW, k * k * channels]) as tf.Tensor2D;
  const product = tf.matMul(columns, tf.reshape(kernel, [k * k * channels, filters]) as tf.Tensor2D);
  return tf.reshape(product, [batch, outH, outW, filters]);
}

function takeEveryNth(window: tf.Tensor, batch: number, outH: number, outW: number, channels: number, strides: number): tf.Tensor4D {
  const grid = tf.reshape(window, [batch, outH, strides, outW, strides, channels]);
  return tf.reshape(tf.slice(grid, [0, 0, 0, 0, 0, 0], [batch, outH, 1, outW, 1, channels]), [batch, outH, outW, channels]);
}
