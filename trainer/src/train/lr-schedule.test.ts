import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learningRateAt } from './lr-schedule.ts';

const cosine = { type: 'warmupCosine' as const, warmupSteps: 4, minLearningRate: 0.01 };

test('constant schedule returns the base rate', () => {
  for (const step of [0, 5, 99]) assert.equal(learningRateAt(step, 0.1, { type: 'constant', warmupSteps: 0, minLearningRate: 0 }, 100), 0.1);
});

test('warm-up is linear and reaches the base rate', () => {
  assert.equal(learningRateAt(0, 1, cosine, 20), 0.25);
  assert.equal(learningRateAt(1, 1, cosine, 20), 0.5);
  assert.equal(learningRateAt(3, 1, cosine, 20), 1);
});

test('cosine decay starts at the base rate and ends at the minimum', () => {
  assert.equal(learningRateAt(4, 1, cosine, 20), 1);
  assert.ok(Math.abs(learningRateAt(19, 1, cosine, 20) - 0.01) < 1e-12);
  const mid = learningRateAt(11.5, 1, cosine, 20);
  assert.ok(Math.abs(mid - (0.01 + 0.99 / 2)) < 1e-12);
  let previous = Infinity;
  for (let step = 4; step < 20; step++) {
    const lr = learningRateAt(step, 1, cosine, 20);
    assert.ok(lr <= previous);
    previous = lr;
  }
});
