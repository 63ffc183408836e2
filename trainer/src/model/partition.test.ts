import { test } from 'node:test';
import assert from 'node:assert/strict';
import { balancePartition, parameterCosts, rangesFromSizes } from './partition.ts';

const maxCost = (costs: number[], sizes: number[]) =>
  Math.max(...rangesFromSizes(sizes).map(({ from, to }) => costs.slice(from, to).reduce((a, b) => a + b, 0)));

test('uniform costs split evenly', () => {
  assert.deepEqual(balancePartition([1, 1, 1, 1, 1, 1, 1, 1], 4), [2, 2, 2, 2]);
});

test('one heavy layer gets a stage to itself', () => {
  assert.deepEqual(balancePartition([100, 1, 1, 1], 2), [1, 3]);
  assert.deepEqual(balancePartition([1, 1, 1, 100], 2), [3, 1]);
});

test('every stage is non-empty and sizes sum to the layer count', () => {
  for (let n = 1; n <= 9; n++) {
    for (let p = 1; p <= n; p++) {
      const sizes = balancePartition(Array.from({ length: n }, (_, i) => (i * 7) % 5), p);
      assert.equal(sizes.length, p);
      assert.equal(sizes.reduce((a, b) => a + b, 0), n);
      assert.ok(sizes.every((s) => s >= 1));
    }
  }
});

test('the split is optimal: brute force finds no smaller maximum', () => {
  const costs = [5, 3, 8, 2, 7, 1, 4];
  const sizes = balancePartition(costs, 3);
  let bestBrute = Infinity;
  for (let a = 1; a < costs.length; a++) for (let b = a + 1; b < costs.length; b++) bestBrute = Math.min(bestBrute, maxCost(costs, [a, b - a, costs.length - b]));
  assert.equal(maxCost(costs, sizes), bestBrute);
});

test('the recompute factor moves layers to the last stage', () => {
  assert.deepEqual(balancePartition([1, 1, 1, 1, 1, 1], 2, 1), [3, 3]);
  assert.deepEqual(balancePartition([1, 1, 1, 1, 1, 1], 2, 1.5), [2, 4]);
});

test('more stages than layers is refused', () => {
  assert.throws(() => balancePartition([1, 2], 3), /cannot split 2 layers into 3 stages/);
});

test('parameter-free layers cost one', () => {
  assert.deepEqual(parameterCosts([0, 10, 0]), [1, 11, 1]);
});
