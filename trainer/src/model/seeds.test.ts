import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mixSeed, seededPermutation, seededRandom } from './seeds.ts';

test('mixSeed is deterministic and sensitive to every part', () => {
  assert.equal(mixSeed(1, 2, 3), mixSeed(1, 2, 3));
  assert.notEqual(mixSeed(1, 2, 3), mixSeed(1, 3, 2));
  assert.notEqual(mixSeed(1, 2), mixSeed(1, 2, 0));
  assert.ok(mixSeed(7) >= 0 && mixSeed(7) < 2 ** 31);
});

test('seededRandom repeats for a seed and stays in [0, 1)', () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  for (let i = 0; i < 1000; i++) {
    const x = a();
    assert.equal(x, b());
    assert.ok(x >= 0 && x < 1);
  }
});

test('seededPermutation is a permutation and depends on the seed', () => {
  const p = seededPermutation(100, 5);
  assert.deepEqual([...p].sort((x, y) => x - y), [...Array(100).keys()]);
  assert.notDeepEqual([...p], [...seededPermutation(100, 6)]);
  assert.deepEqual([...p], [...seededPermutation(100, 5)]);
});
