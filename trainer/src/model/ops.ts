// Small tensor functions shared by the layer builders. All of them are unfused and keep matrix
// products 2-D: tfjs fuses kernels differently inside and outside a gradient tape (which breaks
// forward/recompute equality on wasm), and the gradient of a 3-D × 2-D BatchMatMul fails in
// tfjs 4.22 (shared/notes/language-models.md §1).
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../api/schema.ts';

/** x · kernel over the last axis of x (any rank), as Keras' Dense; the product itself is 2-D. */
export function denseMatMul(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor {
  if (x.rank === 2) return tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D);
  const lead = x.shape.slice(0, -1);
  const flat = tf.reshape(x, [-1, x.shape[x.rank - 1]!]) as tf.Tensor2D;
  return tf.reshape(tf.matMul(flat, kernel as tf.Tensor2D), [...lead, kernel.shape[1]!]);
}

export function addBias(x: tf.Tensor, bias: tf.Tensor | undefined): tf.Tensor {
  return bias ? tf.add(x, bias) : x;
}

export function activate(x: tf.Tensor, activation: Activation): tf.Tensor {
  switch (activation) {
    case 'linear': return x;
    case 'relu': return tf.relu(x);
    case 'sigmoid': return tf.sigmoid(x);
    case 'tanh': return tf.tanh(x);
    case 'softmax': return tf.softmax(x);
  }
}

/** Normalises over the last axis with the biased variance, as PyTorch and Keras do; beta is optional. */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor | undefined, epsilon: number): tf.Tensor {
  const axis = x.rank - 1;
  const mean = tf.mean(x, axis, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), axis, true);
  return addBias(tf.mul(tf.div(centred, tf.sqrt(tf.add(variance, epsilon))), gamma), beta);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** GELU, tanh approximation (GPT-2's `gelu_new`): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  // x·x·x rather than pow(x, 3): pow's gradient takes log(x), which is NaN for negative x.
  const cube = tf.mul(tf.mul(x, x), x);
  const inner = tf.mul(tf.add(x, tf.mul(cube, 0.044715)), SQRT_2_OVER_PI);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/** Inverted dropout with a fixed seed: the recompute in the backward pass draws the same mask. */
export function seededDropout(x: tf.Tensor, rate: number, training: boolean, seed: number): tf.Tensor {
  return training && rate > 0 ? tf.dropout(x, rate, undefined, seed) : x;
}
