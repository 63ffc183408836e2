// Low-rank adapters (LoRA, spec.training.lora): a targeted kernel W [in, out] gets A [in, r]
// (seeded normal, std 0.02) and B [r, out] (zeros), and its product becomes
// x·W + (alpha/r)·(x·A)·B. B starts at zero, so at step 0 the sum adds an exact +0 and the model
// computes the base model's outputs bit for bit. A is seeded by (job seed, layer, slot) like every
// other weight, so it does not depend on the partition. What trains is decided in trainable.ts.
import * as tf from '@tensorflow/tfjs-core';
import type { LoraSpec } from './lora-targets.ts';
import { denseMatMul } from './ops.ts';
import { mixSeed } from './seeds.ts';

/** Standard deviation of A's initial values. */
const ADAPTER_STD = 0.02;
/** A's seed slot is this plus the kernel's own slot, apart from the base weights' slots (0..3). */
const ADAPTER_SLOT_BASE = 64;
export const ADAPTER_A_SUFFIX = '/lora_a';
export const ADAPTER_B_SUFFIX = '/lora_b';

/** An adapter as the product needs it. */
export interface Adapter {
  a: tf.Tensor;
  b: tf.Tensor;
  /** alpha / rank. */
  scale: number;
}

export function loraScale(lora: LoraSpec): number {
  return (lora.alpha ?? lora.rank) / lora.rank;
}

/** Initial values of the adapter of the kernel in seed slot `slot` of layer `layer`: A normal, B zeros. */
export function adapterInitialValues(lora: LoraSpec, seed: number, layer: number, slot: number, kernelShape: readonly number[]): { a: tf.Tensor; b: tf.Tensor } {
  const [inputs, outputs] = kernelShape as [number, number];
  return {
    a: tf.randomNormal([inputs, lora.rank], 0, ADAPTER_STD, 'float32', mixSeed(seed, layer, ADAPTER_SLOT_BASE + slot)),
    b: tf.zeros([lora.rank, outputs]),
  };
}

/** x · kernel (+ scale·(x·A)·B with an adapter) over the last axis of x; every product is 2-D. */
export function adaptedMatMul(x: tf.Tensor, kernel: tf.Tensor, adapter?: Adapter): tf.Tensor {
  const base = denseMatMul(x, kernel);
  if (!adapter) return base;
  return tf.add(base, tf.mul(denseMatMul(denseMatMul(x, adapter.a), adapter.b), adapter.scale));
}

/** True for an adapter weight's name. */
export function isAdapterName(name: string): boolean {
  return name.endsWith(ADAPTER_A_SUFFIX) || name.endsWith(ADAPTER_B_SUFFIX);
}

/**
 * Folds the adapters of `weights` (by name, with their shapes) into their base kernels:
 * W + scale·A·B, computed in float32; the adapters themselves are dropped.
 */
export function mergeAdapters(weights: ReadonlyMap<string, { data: Float32Array; shape: readonly number[] }>, lora: LoraSpec): Map<string, { data: Float32Array; shape: readonly number[] }> {
  const scale = loraScale(lora);
  const merged = new Map<string, { data: Float32Array; shape: readonly number[] }>();
  for (const [name, record] of weights) {
    if (isAdapterName(name)) continue;
    const a = weights.get(name + ADAPTER_A_SUFFIX);
    const b = weights.get(name + ADAPTER_B_SUFFIX);
    if (!a || !b) {
      merged.set(name, record);
      continue;
    }
    const data = tf.tidy(() => {
      const product = tf.matMul(tf.tensor2d(a.data, a.shape as [number, number]), tf.tensor2d(b.data, b.shape as [number, number]));
      return tf.add(tf.tensor(record.data, [...record.shape]), tf.mul(product, scale)).dataSync() as Float32Array;
    });
    merged.set(name, { data: Float32Array.from(data), shape: record.shape });
  }
  return merged;
}

/** Creates a weight (as layers.ts' factory does); `adapter` marks LoRA weights. */
export type AdapterWeightFactory = (suffix: string, value: tf.Tensor, options: { adapter: true }) => { name: string; variable: tf.Variable; adapter?: true };

/** The adapter of kernel `<layer>/<kernelSuffix>` (seed slot `slot`): its two weights and the product's view of them. */
export function createAdapter(weight: AdapterWeightFactory, lora: LoraSpec, seed: number, layer: number, kernelSuffix: string, slot: number, kernelShape: readonly number[]) {
  const initial = adapterInitialValues(lora, seed, layer, slot, kernelShape);
  const a = weight(kernelSuffix + ADAPTER_A_SUFFIX, initial.a, { adapter: true });
  const b = weight(kernelSuffix + ADAPTER_B_SUFFIX, initial.b, { adapter: true });
  return { weights: [a, b], adapter: { a: a.variable, b: b.variable, scale: loraScale(lora) } satisfies Adapter };
}
