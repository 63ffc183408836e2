import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generatedText } from '../../../test/support/generated-text.ts';
import { MinHasher } from './minhash.ts';
import { lshParameters, NearDuplicateIndex } from './near-duplicates.ts';

test('LSH parameters use the permutations and put the S-curve near the threshold', () => {
  for (const threshold of [0.5, 0.8, 0.9]) {
    const { bands, rows } = lshParameters(threshold, 128);
    assert.ok(bands * rows <= 128);
    const midpoint = (1 / bands) ** (1 / rows); // where the S-curve is steepest
    assert.ok(Math.abs(midpoint - threshold) < 0.15, `threshold ${threshold}: ${bands}×${rows}, midpoint ${midpoint.toFixed(2)}`);
  }
});

test('finds a near-duplicate of a kept document and not an unrelated one', () => {
  const hasher = new MinHasher(128, 5, 1);
  const index = new NearDuplicateIndex(128, 0.8);
  const base = generatedText(1, 8000);
  assert.equal(index.find(hasher.signature(base)!), undefined);
  assert.equal(index.add(hasher.signature(base)!), 0);
  index.add(hasher.signature(generatedText(2, 8000))!);
  const words = base.split(' ');
  const nearCopy = words.map((word, i) => (i % 100 === 0 ? 'changed' : word)).join(' ');
  const match = index.find(hasher.signature(nearCopy)!);
  assert.equal(match?.document, 0);
  assert.ok(match!.similarity > 0.8 && match!.similarity <= 1, `similarity ${match!.similarity}`);
  assert.equal(index.find(hasher.signature(generatedText(3, 8000))!), undefined);
  const halfCopy = words.slice(0, words.length / 2).join(' ') + generatedText(4, 4000);
  assert.equal(index.find(hasher.signature(halfCopy)!), undefined, 'about 1/3 similar: below the threshold');
  assert.equal(index.size, 2);
  assert.ok(index.bytes > 0);
});
