import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LayerSchema } from '../api/model-schema.ts';
import { needsVocabulary, resolveVocabulary, statedVocabSize } from './vocabulary.ts';

const parse = (l: Record<string, unknown>) => LayerSchema.parse(l);

test('the embedding takes the dataset\'s vocabulary and the heads take the embedding\'s', () => {
  const layers = [parse({ type: 'embedding', units: 8 }), parse({ type: 'lmHead', tied: true })];
  assert.equal(statedVocabSize(layers), undefined);
  assert.ok(needsVocabulary(layers));
  const resolved = resolveVocabulary(layers, 65);
  assert.deepEqual(resolved.map((l) => ('vocabSize' in l ? l.vocabSize : undefined)), [65, 65]);
  assert.ok(!needsVocabulary(resolved));
  assert.equal(layers[0]!.type === 'embedding' && layers[0]!.vocabSize, undefined, 'the input is not changed');
});

test('stated sizes are kept; an untied head may differ; a tied one follows the embedding', () => {
  const layers = [parse({ type: 'embedding', units: 8, vocabSize: 50 }), parse({ type: 'lmHead', vocabSize: 70 })];
  assert.equal(statedVocabSize(layers), 50);
  assert.deepEqual(resolveVocabulary(layers, 65).map((l) => ('vocabSize' in l ? l.vocabSize : undefined)), [50, 70]);
  const tied = [parse({ type: 'embedding', units: 8, vocabSize: 50 }), parse({ type: 'lmHead', tied: true, vocabSize: 70 })];
  assert.deepEqual(resolveVocabulary(tied, undefined).map((l) => ('vocabSize' in l ? l.vocabSize : undefined)), [50, 50]);
  assert.equal(statedVocabSize([parse({ type: 'lmHead', vocabSize: 9 })]), 9);
});
