// The wasm matmul fix must change speed only: every transpose combination gives the stock result.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.ts';

before(async () => {
  await initBackend('wasm'); // installs the fix
});

test('fixed BatchMatMul equals the cpu kernel for all transpose flags and batch ranks', async () => {
  const cases: Array<[number[], number[], boolean, boolean]> = [
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[2, 7, 5], [2, 3, 7], true, true],
  ];
  for (const [aShape, bShape, ta, tb] of cases) {
    const a = tf.randomUniform(aShape, -1, 1, 'float32', 1);
    const b = tf.randomUniform(bShape, -1, 1, 'float32', 2);
    const wasm = tf.matMul(a, b, ta, tb).arraySync();
    await tf.setBackend('cpu');
    const ac = tf.tensor(a.arraySync() as number[]);
    const bc = tf.tensor(b.arraySync() as number[]);
    const cpu = tf.matMul(ac, bc, ta, tb).arraySync();
    await tf.setBackend('wasm');
    const flat = (x: unknown) => [x].flat(3) as number[];
    const w = flat(wasm);
    const c = flat(cpu);
    assert.equal(w.length, c.length);
    w.forEach((value, i) => assert.ok(Math.abs(value - c[i]!) < 1e-5, `case ${aShape}×${bShape} ${ta}/${tb}: ${value} vs ${c[i]}`));
  }
});

test('no wasm memory is leaked by the temporary transposes', () => {
  const a = tf.ones([16, 8]);
  const b = tf.ones([16, 4]);
  tf.matMul(a, b, true, false).dispose();
  const before = tf.memory().numBytes;
  for (let i = 0; i < 10; i++) tf.matMul(a, b, true, false).dispose();
  assert.equal(tf.memory().numBytes, before);
});
