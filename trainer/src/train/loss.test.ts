import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../tf/backend.ts';
import { maskedTokenLoss } from './loss.ts';

before(async () => {
  await initBackend('cpu');
});

test('maskedTokenLoss: the masked-in targets only, summed and scaled; masked positions get no gradient', () => {
  // 1 sample, window 3, vocabulary 2. Targets 1, 0, 1; only positions 1 and 2 count.
  const logits = tf.tensor3d([[[0, 0], [Math.log(3), 0], [0, Math.log(4)]]]);
  const packed = tf.tensor3d([[[1, 0, 1], [0, 1, 1]]], [1, 2, 3], 'int32');
  const scale = 1 / 5; // as if the batch had 5 completion tokens
  const value = maskedTokenLoss(logits, packed, scale);
  // −log p: position 1 target 0 with p = 3/4; position 2 target 1 with p = 4/5.
  const expected = (-Math.log(3 / 4) - Math.log(4 / 5)) * scale;
  assert.ok(Math.abs(value.dataSync()[0]! - expected) < 1e-6, `${value.dataSync()[0]} vs ${expected}`);
  const gradient = tf.grad((x: tf.Tensor) => maskedTokenLoss(x, packed, scale))(logits);
  const rows = gradient.arraySync() as number[][][];
  assert.ok(rows[0]![0]!.every((g) => g === 0), `a masked position has no gradient: ${rows[0]![0]}`);
  // softmax − one-hot, times the scale: position 1 [3/4 − 1, 1/4] / 5.
  assert.ok(Math.abs(rows[0]![1]![0]! - (3 / 4 - 1) * scale) < 1e-6 && Math.abs(rows[0]![1]![1]! - (1 / 4) * scale) < 1e-6);
  tf.dispose([logits, packed, value, gradient]);
});
