// One optimizer step of a stage: optional clipping by the global gradient norm, then the update.
// The global norm spans every stage: each stage contributes the squared sums of its gradients in
// model order and the total is summed in that same order, so a pipeline and a single process
// compute the identical float64 value (see `NormExchange`).
import * as tf from '@tensorflow/tfjs-core';
import type { Optimizer } from './optimizer.ts';
import { readScalars } from './read-back.ts';

/** Combines per-variable squared sums of all stages into the global norm (identity for one process). */
export type NormExchange = (localSquaredSums: number[], step: number) => Promise<number>;

export const singleProcessNorm: NormExchange = (sums) => Promise.resolve(globalNorm(sums));

export function globalNorm(squaredSumsInModelOrder: number[]): number {
  let total = 0;
  for (const value of squaredSumsInModelOrder) total += value;
  return Math.sqrt(total);
}

/** Per-gradient sums of squares (float32, as each reduction gives them), read back at once. */
export async function squaredSums(grads: tf.Tensor[]): Promise<number[]> {
  const sums = grads.map((g) => tf.tidy(() => tf.sum(tf.square(g))));
  try {
    return Array.from(await readScalars(sums));
  } finally {
    tf.dispose(sums);
  }
}

/** Applies the accumulated gradients and disposes them. Returns the global norm when clipping. */
export async function optimizerStep(options: {
  optimizer: Optimizer;
  step: number;
  grads: tf.Tensor[];
  learningRate: number;
  clipNorm?: number;
  exchangeNorm: NormExchange;
  /** Which gradients count in the norm (default all): a tied copy's equals the original's, counted once. */
  countsInNorm?: readonly boolean[];
  /** Exchange the norm even without clipping (no sums, value unused): the handshake of frozen leading stages (norm-exchange.ts). */
  handshake?: boolean;
}): Promise<number | undefined> {
  const { optimizer, step, grads, learningRate, clipNorm, exchangeNorm, countsInNorm, handshake } = options;
  if (clipNorm === undefined && handshake) await exchangeNorm([], step);
  let norm: number | undefined;
  let applied = grads;
  if (clipNorm !== undefined) {
    norm = await exchangeNorm(await squaredSums(countsInNorm ? grads.filter((_, i) => countsInNorm[i]) : grads), step);
    if (norm > clipNorm) {
      const scale = tf.scalar(clipNorm / norm);
      applied = grads.map((g) => tf.mul(g, scale));
      scale.dispose();
    }
  }
  optimizer.apply(applied, learningRate);
  new Set([...grads, ...applied]).forEach((t) => t.dispose());
  return norm;
}
