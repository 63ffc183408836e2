import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePipelineJobYaml } from './load.ts';
import { resolveDatasetPath, stageCount } from './resolve.ts';
import { summarizeJob } from './summary.ts';

const minimal = `
apiVersion: pipetrain.io/v1alpha1
kind: PipelineJob
metadata: {name: tiny}
spec:
  model:
    inputShape: [4]
    layers: [{type: dense, units: 3, activation: softmax}]
    loss: categoricalCrossentropy
  data:
    dataset: {type: synthetic, featureShape: [4], classes: 3}
`;

void test('a minimal job gets the documented defaults', () => {
  const result = parsePipelineJobYaml(minimal, 'tiny.yaml');
  assert.ok(result.ok);
  const { spec } = result.job;
  assert.deepEqual(spec.model.layers, [{ type: 'dense', units: 3, activation: 'softmax', useBias: true }]);
  assert.deepEqual(spec.pipeline, { stages: 1, microBatches: 4, schedule: '1F1B', partitionPolicy: 'parameters' });
  assert.deepEqual(spec.data, {
    dataset: { type: 'synthetic', seed: 1, samples: 1024, featureShape: [4], classes: 3 },
    batchSize: 32,
    validationSplit: 0.1,
    shuffle: { enabled: true, seed: 1 },
  });
  assert.deepEqual(spec.training, {
    epochs: 1,
    optimizer: { type: 'adam', learningRate: 0.001, momentum: 0.9, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0.01 },
    learningRateSchedule: { type: 'constant', warmupSteps: 0, minLearningRate: 0 },
    seed: 1,
    backend: 'auto',
    logEverySteps: 10,
    evalSamples: 128,
  });
  assert.equal(spec.metricsPort, 9400);
  assert.equal(spec.checkpoint, undefined);
});

void test('a partition is kept as given and decides the stage count', () => {
  const result = parsePipelineJobYaml(minimal.replace('  data:', '  pipeline: {partition: [1]}\n  data:'), 'tiny.yaml');
  assert.ok(result.ok);
  assert.equal(result.job.spec.pipeline.stages, undefined);
  assert.equal(stageCount(result.job.spec.pipeline), 1);
});

void test('layer defaults per type', () => {
  const yaml = minimal
    .replace('inputShape: [4]', 'inputShape: [8, 8, 1]')
    .replace('layers: [', 'layers: [{type: conv2d, filters: 2, kernelSize: 3}, {type: maxPooling2d}, {type: layerNormalization}, {type: flatten}, ')
    .replace('featureShape: [4]', 'featureShape: [8, 8, 1]');
  const result = parsePipelineJobYaml(yaml, 'tiny.yaml');
  assert.ok(result.ok);
  assert.deepEqual(result.job.spec.model.layers.slice(0, 3), [
    { type: 'conv2d', filters: 2, kernelSize: 3, strides: 1, padding: 'valid', activation: 'linear', useBias: true },
    { type: 'maxPooling2d', poolSize: 2, padding: 'valid' },
    { type: 'layerNormalization', epsilon: 1e-3, center: true },
  ]);
  assert.match(summarizeJob(result.job), /^valid PipelineJob tiny: 5 layers \(\d[\d,]* parameters\) in 1 stage \(parameters\), 1F1B with 4 micro-batches of 8, adam, 1 epoch$/);
});

void test('a relative file dataset path resolves against the job file folder', () => {
  const dataset = { type: 'file', path: 'data/train.csv', format: 'csv', labelField: 'label' } as const;
  assert.deepEqual(resolveDatasetPath(dataset, '/jobs/x.yaml'), { ...dataset, path: '/jobs/data/train.csv' });
  assert.deepEqual(resolveDatasetPath({ ...dataset, path: '/abs.csv' }, '/jobs/x.yaml').type, 'file');
  assert.equal((resolveDatasetPath({ ...dataset, path: '/abs.csv' }, '/jobs/x.yaml') as { path: string }).path, '/abs.csv');
});

const gpt = `
apiVersion: pipetrain.io/v1alpha1
kind: PipelineJob
metadata: {name: gpt}
spec:
  model:
    inputShape: [16]
    layers:
      - {type: embedding, units: 8}
      - {type: positionalEmbedding, maxLength: 16}
      - {type: transformerBlock, heads: 2, repeat: 3}
      - {type: layerNormalization, epsilon: 1.0e-5}
      - {type: lmHead, tied: true}
    loss: tokenCrossentropy
  pipeline: {partition: [2, 2, 3]}
  data:
    dataset: {type: tokens, path: data/chars}
`;

void test('language-model layers get their defaults, and a repeated block counts once per repetition', () => {
  const result = parsePipelineJobYaml(gpt, 'gpt.yaml');
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  const { layers } = result.job.spec.model;
  assert.deepEqual(layers[1], { type: 'positionalEmbedding', maxLength: 16, dropout: 0 });
  assert.deepEqual(layers[2], { type: 'transformerBlock', heads: 2, repeat: 3, mlpRatio: 4, dropout: 0, useBias: true });
  assert.deepEqual(layers[4], { type: 'lmHead', tied: true });
  assert.deepEqual(result.job.spec.data.dataset, { type: 'tokens', path: 'data/chars', sampling: 'random' });
  // 7 layers once the 3 blocks are counted one by one; the vocabulary comes from the data.
  // Positions 16·8, three blocks of 872 (LayerNorms 32, attention 288, MLP 552), the final LayerNorm 16.
  assert.match(summarizeJob(result.job), /^valid PipelineJob gpt: 7 layers \(2,760 parameters besides those per vocabulary entry\) in 3 stages \(partition 2\+2\+3\)/);
});
