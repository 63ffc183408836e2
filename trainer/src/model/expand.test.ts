import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LayerSchema } from '../api/model-schema.ts';
import { expandLayers, modelLayerCount } from './expand.ts';

const layers = [
  { type: 'embedding', units: 8 },
  { type: 'positionalEmbedding', maxLength: 16 },
  { type: 'transformerBlock', heads: 2, repeat: 3 },
  { type: 'layerNormalization' },
  { type: 'lmHead', tied: true },
].map((l) => LayerSchema.parse(l));

test('a repeated block becomes one layer per repetition, each remembering its spec index', () => {
  const { layers: expanded, specIndex } = expandLayers(layers);
  assert.deepEqual(expanded.map((l) => l.type), ['embedding', 'positionalEmbedding', 'transformerBlock', 'transformerBlock', 'transformerBlock', 'layerNormalization', 'lmHead']);
  assert.deepEqual(specIndex, [0, 1, 2, 2, 2, 3, 4]);
  assert.ok(expanded.every((l) => l.type !== 'transformerBlock' || l.repeat === 1));
  assert.equal(modelLayerCount(layers), 7);
  assert.equal(modelLayerCount(layers.slice(3)), 2);
});
