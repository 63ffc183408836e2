// Reading scalars back from the backend, once per step: a read per tensor would stall a GPU (and,
// read synchronously, the event loop with its sockets and heartbeats) once per tensor.
import * as tf from '@tensorflow/tfjs-core';

/** The values of scalar tensors, in order, from one asynchronous read-back. Disposes nothing. */
export async function readScalars(scalars: tf.Tensor[]): Promise<Float32Array> {
  if (scalars.length === 0) return new Float32Array(0);
  const stacked = tf.tidy(() => tf.concat(scalars.map((s) => s.reshape([1]))));
  try {
    return (await stacked.data()) as Float32Array;
  } finally {
    stacked.dispose();
  }
}

/** The step's loss: the micro-batch losses summed in order, in float64. Disposes the tensors. */
export async function readLossSum(losses: tf.Tensor[]): Promise<number | undefined> {
  if (losses.length === 0) return undefined;
  const values = await readScalars(losses);
  tf.dispose(losses);
  let total = 0;
  for (const value of values) total += value;
  return total;
}
