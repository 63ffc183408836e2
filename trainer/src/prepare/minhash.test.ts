import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generatedText } from '../../../test/support/generated-text.ts';
import { estimatedJaccard, exactJaccard, MinHasher, wordHashes } from './minhash.ts';

test('words are runs of letters and digits, case-insensitive, in any script', () => {
  assert.deepEqual(wordHashes('The cat, THE cat!'), wordHashes('the CAT the cat'));
  assert.equal(wordHashes('Ünïcode wörds 42 日本').length, 4);
  assert.deepEqual(wordHashes(' ,.; '), []);
});

test('the same seed gives the same signature; another seed another one', () => {
  const text = generatedText(3, 2000);
  assert.deepEqual(new MinHasher(64, 5, 7).signature(text), new MinHasher(64, 5, 7).signature(text));
  assert.notDeepEqual(new MinHasher(64, 5, 7).signature(text), new MinHasher(64, 5, 8).signature(text));
  assert.equal(new MinHasher(64, 5, 7).signature('...'), undefined);
});

test('the estimate follows the exact Jaccard similarity of the shingle sets', () => {
  const hasher = new MinHasher(256, 5, 1);
  const base = generatedText(1, 6000);
  const words = base.split(' ');
  for (const changed of [0, 0.02, 0.1, 0.3]) {
    // Replace a share of the words, spread evenly.
    const step = changed === 0 ? Infinity : Math.round(1 / changed);
    const variant = words.map((word, i) => (i % step === 0 ? `x${i}` : word)).join(' ');
    const exact = exactJaccard(base, variant, 5);
    const estimate = estimatedJaccard(hasher.signature(base)!, hasher.signature(variant)!);
    assert.ok(Math.abs(estimate - exact) < 0.1, `changed ${changed}: exact ${exact.toFixed(3)}, estimate ${estimate.toFixed(3)}`);
  }
  const other = generatedText(2, 6000);
  assert.ok(estimatedJaccard(hasher.signature(base)!, hasher.signature(other)!) < 0.05);
});
