// AdamW: PyTorch's update, decay only on weights with two or more dimensions; adam unchanged.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../tf/backend.ts';
import { createOptimizer, type OptimizerConfig } from './optimizer.ts';

const config = (type: OptimizerConfig['type']): OptimizerConfig => ({ type, momentum: 0.9, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1 });

before(async () => {
  await initBackend('cpu');
});

/** One step from weights [1, 2]… with gradient 0.5 everywhere; returns the new values. */
function oneStep(type: OptimizerConfig['type'], shape: number[]): number[] {
  const variable = tf.variable(tf.fill(shape, 2));
  const optimizer = createOptimizer(config(type), [{ name: 'w', variable }]);
  const gradient = tf.fill(shape, 0.5);
  optimizer.apply([gradient], 0.01);
  const values = Array.from(variable.dataSync());
  tf.dispose([variable, gradient]);
  optimizer.dispose();
  return values;
}

test('adamw decays matrices by (1 − lr·decay) before the Adam step; vectors do not decay', () => {
  // First Adam step: m̂ = g, v̂ = g², so the update is lr · g / (|g| + eps) ≈ lr.
  const adamStep = 0.01 * (0.5 / (0.5 + 1e-8));
  const matrix = oneStep('adamw', [2, 2]);
  const expected = Math.fround(Math.fround(2 * Math.fround(1 - 0.01 * 0.1)) - Math.fround(adamStep));
  matrix.forEach((v) => assert.ok(Math.abs(v - expected) < 1e-6, `${v} vs ${expected}`));
  const vector = oneStep('adamw', [3]);
  vector.forEach((v) => assert.ok(Math.abs(v - (2 - adamStep)) < 1e-6, `${v}`));
  assert.deepEqual(oneStep('adam', [2, 2]), oneStep('adam', [2, 2]));
  assert.notDeepEqual(oneStep('adam', [2, 2]), matrix, 'adam does not decay');
});
