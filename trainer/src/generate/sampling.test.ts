import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../model/seeds.ts';
import { sampleToken } from './sampling.ts';

const logits = [0.5, 3, -1, 3, 2];

test('temperature 0 is greedy (the lowest id on a tie)', () => {
  assert.equal(sampleToken(logits, { temperature: 0 }, () => 0.99), 1);
});

test('top-k keeps only the k most likely tokens; a seed repeats the draws', () => {
  const draws = (seed: number, topK?: number) => {
    const random = seededRandom(seed);
    return Array.from({ length: 200 }, () => sampleToken(logits, { temperature: 1, topK }, random));
  };
  assert.deepEqual(draws(3, 2), draws(3, 2));
  assert.deepEqual(new Set(draws(3, 2)), new Set([1, 3]));
  assert.ok(new Set(draws(3)).size >= 4, 'without top-k every token can come up');
  assert.notDeepEqual(draws(3), draws(4));
});

test('sampling follows softmax(logits / temperature)', () => {
  const random = seededRandom(1);
  const counts = [0, 0];
  for (let i = 0; i < 20000; i++) counts[sampleToken([0, Math.log(3)], { temperature: 1 }, random)]!++;
  assert.ok(Math.abs(counts[1]! / 20000 - 0.75) < 0.015, `${counts[1]! / 20000}`);
});
