// Conversions between tf tensors and transport frames (float32 only: tfjs trains in float32).
import * as tf from '@tensorflow/tfjs-core';
import type { Frame } from '../transport/index.ts';

export async function tensorToFrame(tensor: tf.Tensor, kind: number, step: number, microBatch: number): Promise<Frame> {
  const data = (await tensor.data()) as Float32Array;
  return { kind, step, microBatch, dtype: 'float32', shape: [...tensor.shape], data };
}

export function frameToTensor(frame: Frame): tf.Tensor {
  if (frame.dtype !== 'float32') throw new TypeError(`expected a float32 frame, got ${frame.dtype}`);
  return tf.tensor(frame.data as Float32Array, frame.shape, 'float32');
}
