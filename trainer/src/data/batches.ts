// Turns sample indices into input and target tensors for one micro-batch.
import * as tf from '@tensorflow/tfjs-core';
import type { LossName } from '../train/loss.ts';
import { sampleSize, type Dataset } from './dataset.ts';

export function inputTensor(data: Dataset, indices: ArrayLike<number>): tf.Tensor {
  const size = sampleSize(data.featureShape);
  const values = new Float32Array(indices.length * size);
  for (let i = 0; i < indices.length; i++) values.set(data.features.subarray(indices[i]! * size, (indices[i]! + 1) * size), i * size);
  return tf.tensor(values, [indices.length, ...data.featureShape], 'float32');
}

/** Sparse crossentropy: class indices; categorical: one-hot rows; mean squared error: target vectors. */
export function targetTensor(data: Dataset, indices: ArrayLike<number>, loss: LossName, classes: number): tf.Tensor {
  const size = sampleSize(data.labelShape);
  const values = new Float32Array(indices.length * size);
  for (let i = 0; i < indices.length; i++) values.set(data.labels.subarray(indices[i]! * size, (indices[i]! + 1) * size), i * size);
  if (loss === 'categoricalCrossentropy') {
    return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(values, 'int32'), classes), 'float32'));
  }
  return tf.tensor(values, [indices.length, ...data.labelShape], 'float32');
}
