// LoRA (spec.training.lora), with real training on cpu: a pipeline with adapters computes bit for
// bit what single-process training computes (2-3 stages, GPipe and 1F1B), on a tiny GPT
// (attention and mlp targets) and on an MLP (dense targets); the adapted layers' base weights come
// out bit-identical; at step 0 (B = 0) the adapted model computes exactly the base model's outputs;
// merging the adapters into the base predicts what the adapted model predicts.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../tf/backend.ts';
import { loadJobData, loadTrainingData } from '../data/load.ts';
import { jobLayers, modelLayerCount } from '../model/expand.ts';
import { buildLayers, type Layer } from '../model/layers.ts';
import { mergeAdapters } from '../model/lora.ts';
import type { LoraSpec } from '../model/lora-targets.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import { forwardModel } from '../generate/trained-model.ts';
import { tinyMlpJob } from '../../../test/support/tiny-jobs.ts';
import { tinyGptJob, tinyTokenFolder } from '../../../test/support/gpt-jobs.ts';
import { weightsDigest, type WeightBytes } from './digest.ts';
import { buildStage } from './job-model.ts';
import { trainPipelineInProcess } from './pipeline-in-process.ts';
import { trainSingleProcess } from './reference.ts';

function initialWeights(spec: PipelineJobSpec): WeightBytes[] {
  const { model, optimizer } = buildStage(spec, 0, modelLayerCount(spec.model.layers));
  const weights = model.weightBytes();
  optimizer.dispose();
  model.weights.forEach((w) => w.variable.dispose());
  return weights;
}

const bytes = (w: WeightBytes) => Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength);

/** Names of the weights (tied copies aside) that `pick` selects and whose values differ between `a` and `b`, bit for bit. */
function changed(a: WeightBytes[], b: WeightBytes[], pick: (w: WeightBytes) => boolean): string[] {
  const before = new Map(a.filter((w) => !w.tiedCopy).map((w) => [w.name, bytes(w)]));
  return b.filter((w) => !w.tiedCopy && pick(w)).filter((w) => Buffer.compare(before.get(w.name)!, bytes(w)) !== 0).map((w) => w.name);
}

const isAdapter = (w: WeightBytes) => /\/lora_[ab]$/.test(w.name);

function loraMlp(pipeline: Partial<PipelineJobSpec['pipeline']>, lora: LoraSpec = { rank: 2, alpha: 4, targets: ['dense'] }): PipelineJobSpec {
  const base = tinyMlpJob();
  return tinyMlpJob({
    training: { ...base.training, optimizer: { ...base.training.optimizer, type: 'adamw', weightDecay: 0.1 }, lora },
    pipeline: { ...base.pipeline, microBatches: 3, ...pipeline },
    data: { ...base.data, batchSize: 12 },
  });
}

function disposeLayers(layers: Layer[]): void {
  layers.forEach((layer) => layer.weights.forEach((w) => w.variable.dispose()));
}

describe('LoRA: pipelines equal single-process training, base weights stay (cpu, bit for bit)', () => {
  before(async () => {
    await initBackend('cpu');
  });

  for (const [partition, schedule] of [[[2, 4], 'GPipe'], [[1, 2, 3], '1F1B'], [[3, 2, 1], 'GPipe']] as const) {
    test(`MLP, dense targets, partition ${partition.join('+')}, ${schedule}`, async () => {
      const spec = loraMlp({ stages: partition.length, schedule });
      const data = await loadJobData(spec);
      const before = tf.memory().numTensors;
      const reference = await trainSingleProcess(spec, data);
      const pipelined = await trainPipelineInProcess(spec, data, [...partition]);
      assert.equal(weightsDigest(pipelined.weights), weightsDigest(reference.weights));
      assert.deepEqual(pipelined.losses, reference.losses);
      const initial = initialWeights(spec);
      const dense = new Set([0, 2, 5]);
      assert.deepEqual(changed(initial, pipelined.weights, (w) => dense.has(w.layerIndex) && !isAdapter(w)), [], 'the dense layers keep their kernels and biases');
      assert.equal(changed(initial, pipelined.weights, isAdapter).length, 6, 'every adapter trained: 3 × (A, B)');
      assert.equal(changed(initial, pipelined.weights, (w) => w.layerIndex === 3).length, 2, 'the layerNormalization (not targeted) trains as before');
      assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
    });
  }

  test('adapters only for the targets; the base has no optimizer slots', () => {
    const spec = loraMlp({ stages: 1 });
    const { model, optimizer } = buildStage(spec, 0, 6);
    const names = model.weights.map((w) => w.name);
    assert.deepEqual(names.filter((name) => name.includes('lora')), [
      'layer0_dense/kernel/lora_a', 'layer0_dense/kernel/lora_b', 'layer2_dense/kernel/lora_a', 'layer2_dense/kernel/lora_b', 'layer5_dense/kernel/lora_a', 'layer5_dense/kernel/lora_b',
    ]);
    assert.deepEqual(model.trainable.map((w) => w.name), [...names.filter((name) => name.includes('lora') || name.startsWith('layer3_'))].sort((a, b) => names.indexOf(a) - names.indexOf(b)));
    assert.deepEqual([...optimizer.state().slots.keys()].filter((name) => /layer[025]_dense\/(kernel|bias)$/.test(name.replace(/\/(m|v|[a-z]+)$/, ''))), []);
    assert.deepEqual(model.weights.find((w) => w.name === 'layer0_dense/kernel/lora_a')!.variable.shape, [12, 2]);
    assert.deepEqual(model.weights.find((w) => w.name === 'layer0_dense/kernel/lora_b')!.variable.shape, [2, 16]);
    optimizer.dispose();
    model.weights.forEach((w) => w.variable.dispose());
  });

  test('at step 0 (B = 0) the adapted model computes exactly the base model', () => {
    const spec = loraMlp({ stages: 1 });
    const specs = jobLayers(spec);
    const plain = buildLayers(spec.model.inputShape, specs, spec.training.seed);
    const adapted = buildLayers(spec.model.inputShape, specs, spec.training.seed, 0, specs.length, { lora: spec.training.lora! });
    const ctx = { training: false, seed: 0, step: 0, microBatch: 0 };
    const x = tf.randomNormal([5, 12], 0, 1, 'float32', 9);
    const [a, b] = [plain, adapted].map((layers) => tf.tidy(() => layers.reduce((h, layer) => layer.apply(h, ctx), x as tf.Tensor)));
    assert.deepEqual(Buffer.from(b!.dataSync().buffer), Buffer.from(a!.dataSync().buffer));
    [x, a!, b!].forEach((t) => t.dispose());
    disposeLayers(plain);
    disposeLayers(adapted);
  });

  test('the adapters change the result once trained: the digest sees it', async () => {
    const adapted = loraMlp({ stages: 1 });
    const rankOne = loraMlp({ stages: 1 }, { rank: 1, alpha: 4, targets: ['dense'] });
    const data = await loadJobData(adapted);
    assert.notEqual(weightsDigest((await trainSingleProcess(adapted, data)).weights), weightsDigest((await trainSingleProcess(rankOne, data)).weights));
  });

  test('merged adapters (W + alpha/r·A·B) predict what the adapted model predicts (<= 1e-5)', async () => {
    const spec = loraMlp({ stages: 1 });
    const trained = await trainSingleProcess(spec, await loadJobData(spec));
    const weights = new Map(trained.weights.filter((w) => !w.tiedCopy).map((w) => [w.name, w.data]));
    const shapes = new Map(initialShapes(spec));
    const merged = mergeAdapters(new Map([...weights].map(([name, data]) => [name, { data, shape: shapes.get(name)! }])), spec.training.lora!);
    assert.deepEqual([...merged.keys()].filter((name) => name.includes('lora')), []);
    const adaptedModel = forwardModel(spec.model, spec.training.seed, weights, spec.training.lora);
    const mergedModel = forwardModel(spec.model, spec.training.seed, new Map([...merged].map(([name, record]) => [name, record.data])));
    const x = tf.randomNormal([7, 12], 0, 1, 'float32', 3);
    const [a, b] = [adaptedModel.forward(x), mergedModel.forward(x)];
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
    assert.ok(diff <= 1e-5, `max abs diff ${diff}`);
    assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(a, forwardModel(spec.model, spec.training.seed, weights).forward(x)))).dataSync()[0]!) > 1e-4, 'the adapters matter');
    [x, a, b].forEach((t) => t.dispose());
    adaptedModel.dispose();
    mergedModel.dispose();
  });
});

function initialShapes(spec: PipelineJobSpec): [string, readonly number[]][] {
  const { model, optimizer } = buildStage(spec, 0, modelLayerCount(spec.model.layers));
  const shapes = model.weights.map((w): [string, readonly number[]] => [w.name, w.variable.shape]);
  optimizer.dispose();
  model.weights.forEach((w) => w.variable.dispose());
  return shapes;
}

describe('LoRA on a GPT: attention and mlp targets', () => {
  let folder = '';
  before(async () => {
    await initBackend('cpu');
    folder = await tinyTokenFolder();
  });

  test('at step 0 (B = 0) the adapted GPT computes exactly the base GPT\'s logits', async () => {
    const { spec } = await loadTrainingData(tinyGptJob(folder, { tied: true }, { training: { ...tinyGptJob(folder).training, lora: { rank: 2, alpha: 8, targets: ['attention', 'mlp'] } } }));
    const specs = jobLayers(spec);
    const plain = buildLayers(spec.model.inputShape, specs, spec.training.seed);
    const adapted = buildLayers(spec.model.inputShape, specs, spec.training.seed, 0, specs.length, { lora: spec.training.lora! });
    assert.equal(adapted.flatMap((layer) => layer.weights).length - plain.flatMap((layer) => layer.weights).length, 3 * 4 * 2, '4 adapters (A, B) per block');
    const ctx = { training: false, seed: 0, step: 0, microBatch: 0 };
    const ids = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8], [8, 7, 6, 5, 4, 3, 2, 1]], [2, 8], 'int32');
    const [a, b] = [plain, adapted].map((layers) => tf.tidy(() => layers.reduce((h, layer) => layer.apply(h, ctx), ids as tf.Tensor)));
    assert.deepEqual(Buffer.from(b!.dataSync().buffer), Buffer.from(a!.dataSync().buffer));
    [ids, a!, b!].forEach((t) => t.dispose());
    disposeLayers(plain);
    disposeLayers(adapted);
  });

  for (const targets of [['attention', 'mlp'], ['attention']] as const) {
    test(`targets ${targets.join(', ')}, freeze.layers 2: 2-3 stages, GPipe and 1F1B`, { timeout: 180_000 }, async () => {
      const { spec, data } = await loadTrainingData(tinyGptJob(folder, { tied: true }, {
        training: { ...tinyGptJob(folder).training, freeze: { layers: 2 }, lora: { rank: 2, alpha: 8, targets: [...targets] } },
        pipeline: { stages: 1, microBatches: 3, schedule: '1F1B', partitionPolicy: 'parameters' },
        data: { dataset: { type: 'tokens', path: folder, sampling: 'random' }, batchSize: 6, validationSplit: 0.1, shuffle: { enabled: true, seed: 4 } },
      }));
      const reference = await trainSingleProcess(spec, data);
      const initial = initialWeights(spec);
      const blocks = (w: WeightBytes) => w.layerIndex >= 2 && w.layerIndex <= 4;
      assert.deepEqual(changed(initial, reference.weights, (w) => (blocks(w) && !isAdapter(w)) || w.layerIndex < 2), [], 'the blocks\' base, the embedding and positions stay');
      assert.equal(changed(initial, reference.weights, isAdapter).length, 3 * 2 * 2 * targets.length, 'every adapter trained');
      assert.ok(changed(initial, reference.weights, (w) => w.layerIndex === 5).length > 0, 'the final layerNormalization trains');
      for (const [partition, schedule] of [[[3, 4], 'GPipe'], [[2, 3, 2], '1F1B'], [[4, 2, 1], 'GPipe']] as const) {
        const pipelined = await trainPipelineInProcess({ ...spec, pipeline: { ...spec.pipeline, schedule } }, data, [...partition]);
        const where = `${schedule}, partition ${partition.join('+')}`;
        assert.equal(weightsDigest(pipelined.weights), weightsDigest(reference.weights), where);
        assert.deepEqual(pipelined.losses, reference.losses, where);
        assert.deepEqual(pipelined.valLosses, reference.valLosses, where);
      }
    });
  }
});
