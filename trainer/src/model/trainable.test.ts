import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyMlpJob } from '../../../test/support/tiny-jobs.ts';
import { rangesFromSizes } from './partition.ts';
import { backwardFreeStages, layerHasTrainableWeights, layerTrains, needsInputGradient } from './trainable.ts';
import type { LayerSpec } from '../api/schema.ts';

const gptLayers = (head: Record<string, unknown> = { type: 'lmHead', tied: true }): LayerSpec[] => [
  { type: 'embedding', units: 8, vocabSize: 5 },
  { type: 'positionalEmbedding', maxLength: 4, dropout: 0 },
  { type: 'transformerBlock', heads: 2, repeat: 3, mlpRatio: 4, dropout: 0, useBias: true },
  head as LayerSpec,
];

void test('freeze.layers counts expanded layers: a repeat of 3 blocks is 3 layers', () => {
  const spec = { model: { layers: gptLayers() }, training: { freeze: { layers: 3 } } };
  // embedding, positions, block 0 frozen; blocks 1 and 2 train; the tied head follows the embedding.
  assert.deepEqual(layerTrains(spec), [false, false, false, true, true, false]);
  const untied = { model: { layers: gptLayers({ type: 'lmHead', tied: false }) }, training: { freeze: { layers: 3 } } };
  assert.deepEqual(layerTrains(untied), [false, false, false, true, true, true]);
});

void test('a trainable embedding makes its tied head train, whatever the head says', () => {
  const spec = { model: { layers: gptLayers() }, training: {} };
  assert.deepEqual(layerTrains(spec), [true, true, true, true, true, true]);
});

void test('layers without weights never count as trainable; leading stages with nothing to train run no backward', () => {
  const base = tinyMlpJob();
  const spec = { ...base, model: { ...base.model, layers: base.model.layers.map((l, i) => (i === 0 ? { ...l, trainable: false } : l)) } };
  // dense (frozen), dropout, dense, layerNorm, activation, dense
  assert.deepEqual(layerHasTrainableWeights(spec), [false, false, true, true, false, true]);
  assert.equal(backwardFreeStages(spec, rangesFromSizes([2, 4])), 1, 'dense + dropout: nothing to train');
  assert.equal(backwardFreeStages(spec, rangesFromSizes([1, 1, 4])), 2);
  assert.equal(backwardFreeStages(spec, rangesFromSizes([3, 3])), 0);
  assert.equal(backwardFreeStages(base, rangesFromSizes([2, 4])), 0);
  assert.equal(needsInputGradient(spec, 2), false, 'nothing before layer 2 trains');
  assert.equal(needsInputGradient(spec, 3), true);
});
