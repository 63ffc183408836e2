// Our UnsortedSegmentSum must give cpu's stock result, and make an embedding trainable on wasm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.ts';
import { installSegmentSumKernel, uninstallSegmentSumKernel } from './segment-sum-kernel.ts';

const ids = [3, 0, 3, 1, 7, 3, 0];
const rows = (seed: number) => tf.randomUniform([ids.length, 2, 3], -1, 1, 'float32', seed);

test('equals the stock cpu kernel, out-of-range ids dropped', async () => {
  await initBackend('cpu');
  const x = rows(1);
  const segments = tf.tensor1d(ids, 'int32');
  const ours = tf.unsortedSegmentSum(x, segments, 5).arraySync();
  uninstallSegmentSumKernel();
  const stock = tf.unsortedSegmentSum(x, segments, 5).arraySync();
  installSegmentSumKernel('cpu');
  const flat = (v: unknown) => [v].flat(4) as number[];
  flat(ours).forEach((value, i) => assert.ok(Math.abs(value - flat(stock)[i]!) < 1e-6, `element ${i}: ${value} vs ${flat(stock)[i]}`));
  // id 7 is outside the 5 segments: its row is dropped, as TensorFlow (and the stock kernel) does.
  assert.equal(flat(ours).length, 5 * 6);
});

test('an embedding (gather) has a gradient on wasm, equal to cpu\'s', async () => {
  const gradient = async (backend: 'cpu' | 'wasm') => {
    await initBackend(backend);
    const table = tf.variable(tf.randomUniform([8, 3], -1, 1, 'float32', 2));
    const weights = tf.randomUniform([ids.length, 3], -1, 1, 'float32', 3);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.gather(table, tf.tensor1d(ids, 'int32')), weights)) as tf.Scalar, [table]);
    const values = Array.from(await grads[table.name]!.data());
    tf.dispose([table, weights, ...Object.values(grads)]);
    return values;
  };
  const wasm = await gradient('wasm');
  const cpu = await gradient('cpu');
  wasm.forEach((value, i) => assert.ok(Math.abs(value - cpu[i]!) < 1e-6, `element ${i}: ${value} vs ${cpu[i]}`));
  assert.ok(cpu.slice(3 * 2, 3 * 3).every((value) => value === 0), 'row 2 is never gathered: zero gradient');
});
