// A GPT started from a source on 2 stages: the stage holding the tied lmHead reads the embedding's
// source layer for its copy (and no other stage's layers), and repeated blocks take their copies.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { tinyGptLayers } from '../../../test/support/gpt-jobs.ts';
import { PipelineJobSchema, type LayerSpec, type PipelineJobSpec } from '../api/schema.ts';
import type { TensorRecord } from '../checkpoint/types.ts';
import { jobLayers } from '../model/expand.ts';
import { buildLayers } from '../model/layers.ts';
import { resolveVocabulary } from '../model/vocabulary.ts';
import { initBackend } from '../tf/backend.ts';
import { buildStage } from '../train/job-model.ts';
import { startFromSource } from './start-from-source.ts';
import { inMemorySource, type WeightSource } from './weight-source.ts';

before(() => initBackend('cpu'));

const VOCABULARY = 20;
const layers = resolveVocabulary(PipelineJobSchema.shape.spec.shape.model.shape.layers.parse(tinyGptLayers(true)) as LayerSpec[], VOCABULARY);

function gptSpec(seed: number): PipelineJobSpec {
  return PipelineJobSchema.parse({
    apiVersion: 'pipetrain.io/v1alpha1', kind: 'PipelineJob', metadata: { name: 'gpt' },
    spec: {
      model: { inputShape: [8], layers, loss: 'tokenCrossentropy', from: { tfjsLayers: 'unused.json' } },
      data: { dataset: { type: 'tokens', path: 'unused' }, batchSize: 4 },
      training: { steps: 1, seed, optimizer: { type: 'adam', learningRate: 0.01 } },
    },
  }).spec;
}

/** Every stored weight of the same GPT initialised with another seed, as an in-memory source that records what is read. */
function source(reads: number[][]): WeightSource {
  const built = buildLayers([8], jobLayers({ model: { layers } }), 99);
  const weights = new Map<string, TensorRecord>(built.flatMap((layer) => layer.weights.filter((w) => !w.tiedCopy)
    .map((w) => [w.name, { name: w.name, shape: [...w.variable.shape], data: Float32Array.from(w.variable.dataSync() as Float32Array) }] as const)));
  built.forEach((layer) => layer.weights.forEach((w) => w.variable.dispose()));
  const inner = inMemorySource({ kind: 'tfjsLayers', where: 'gpt source', checksum: '0'.repeat(64), layers }, weights);
  return { ...inner, read: (indices, options) => (reads.push(indices), inner.read(indices, options)) };
}

const bits = (data: Float32Array) => [...new Uint32Array(data.buffer, data.byteOffset, data.length)];

test('the tied lmHead\'s stage takes the source embedding for its copy and reads only the layers it needs', async () => {
  const spec = gptSpec(1);
  const reads: number[][] = [];
  const from = source(reads);
  const sourceValue = async (name: string) => bits((await from.read([Number(/^layer(\d+)/.exec(name)![1])])).weights.get(name)!.data);
  // Layers: 0 embedding, 1 positions, 2-4 blocks, 5 layer norm, 6 tied head; stage 1 holds 3-6.
  const { model, optimizer } = buildStage(spec, 3, 7);
  const plan = await startFromSource({ spec, weights: model.weights, optimizer }, from);
  assert.deepEqual(plan.fresh, []);
  assert.deepEqual(reads[0], [0, 3, 4, 5]);
  const copy = model.weights.find((w) => w.tiedCopy)!;
  assert.equal(copy.name, 'layer0_embedding/embeddings');
  assert.deepEqual(bits(copy.variable.dataSync() as Float32Array), await sourceValue('layer0_embedding/embeddings'));
  const block = model.weights.find((w) => w.name === 'layer4_transformerBlock/attention/qkv/kernel')!;
  assert.deepEqual(bits(block.variable.dataSync() as Float32Array), await sourceValue('layer4_transformerBlock/attention/qkv/kernel'));
  optimizer.dispose();
  model.weights.forEach((w) => w.variable.dispose());
});
