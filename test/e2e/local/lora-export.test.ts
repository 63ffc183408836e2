// LoRA checkpoints (spec.training.lora) through `pipetrain export` and `pipetrain predict`, on
// checkpoints made by really training (stage processes, cpu): predict uses the adapters;
// `export --merge` folds them in, and tfjs-layers' own tf.loadLayersModel on the merged export
// predicts what predict predicts on the LoRA checkpoint (<= 1e-5); without --merge, tfjs-layers
// and huggingface refuse with the fix and write nothing, safetensors keeps the adapters as tensors;
// the checksum of the adapted layers' base is the same at every step (training never touches it).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { readSafetensors } from '../../../trainer/src/formats/safetensors.ts';
import { readHuggingfaceGpt2 } from '../../../trainer/src/formats/huggingface.ts';
import { readCheckpointedModel } from '../../../trainer/src/generate/checkpoint-model.ts';
import { forwardModel } from '../../../trainer/src/generate/trained-model.ts';
import { initBackend } from '../../../trainer/src/tf/backend.ts';
import { gptWorkspace } from '../../support/gpt-jobs.ts';
import { numpyGpt2Logits } from '../../support/numpy-gpt2.ts';
import { parseSummary, runCli } from './cli-runner.ts';

let root = '';
let mlp = '';
let gpt = '';

const LORA = { rank: 2, alpha: 4 };

async function trainLoraMlp(): Promise<string> {
  const dir = await mkdtemp(join(root, 'mlp-'));
  const job = {
    apiVersion: 'pipetrain.io/v1alpha1', kind: 'PipelineJob', metadata: { name: 'lora-mlp' },
    spec: {
      model: {
        inputShape: [12], loss: 'sparseCategoricalCrossentropy',
        layers: [
          { type: 'dense', units: 16, activation: 'relu' }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 16 },
          { type: 'layerNormalization' }, { type: 'activation', activation: 'tanh' }, { type: 'dense', units: 4, activation: 'softmax' },
        ],
      },
      pipeline: { stages: 2, microBatches: 2 },
      data: { dataset: { type: 'synthetic', seed: 3, samples: 400, featureShape: [12], classes: 4 }, batchSize: 20, validationSplit: 0.1 },
      training: { steps: 6, optimizer: { type: 'adam', learningRate: 0.05 }, backend: 'cpu', lora: { ...LORA, targets: ['dense'] } },
      checkpoint: { path: 'checkpoints', everySteps: 3 },
    },
  };
  await writeFile(join(dir, 'job.yaml'), JSON.stringify(job));
  const result = await runCli(['train', join(dir, 'job.yaml'), '--json']);
  assert.equal(parseSummary(result).status, 'Succeeded', result.stderr);
  return join(dir, 'checkpoints');
}

async function trainLoraGpt(): Promise<string> {
  const workspace = await gptWorkspace();
  const job = JSON.parse(await readFile(workspace.job, 'utf8')) as { spec: { training: Record<string, unknown> } };
  job.spec.training.lora = { ...LORA, targets: ['attention', 'mlp'] };
  await writeFile(workspace.job, JSON.stringify(job));
  const result = await runCli(['train', workspace.job, '--json', '--sample-tokens', '0', '--set', 'spec.pipeline.stages=2', '--set', 'spec.training.steps=4']);
  assert.equal(parseSummary(result).status, 'Succeeded', result.stderr);
  return workspace.checkpoints;
}

async function exportCli(checkpoint: string, format: string, ...args: string[]): Promise<{ out: string; metadata: Record<string, string> }> {
  const out = join(await mkdtemp(join(root, `${format}-`)), 'export');
  const result = await runCli(['export', checkpoint, '--format', format, '--out', out, '--json', ...args]);
  assert.equal(result.code, 0, result.stderr);
  return { out, ...(JSON.parse(result.stdout) as { metadata: Record<string, string> }) };
}

async function predictCli(checkpoint: string, lines: object[]): Promise<Record<string, unknown>[]> {
  const input = join(await mkdtemp(join(root, 'predict-')), 'input.jsonl');
  await writeFile(input, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
  const result = await runCli(['predict', checkpoint, '--input', input, '--json']);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

const checkpointOf = (location: string, step?: number) => readCheckpointedModel(location, { step, log: () => {} });
const maxAbsDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pipetrain-lora-export-'));
  await initBackend('cpu');
  [mlp, gpt] = await Promise.all([trainLoraMlp(), trainLoraGpt()]);
});

after(() => rm(root, { recursive: true, force: true }));

test('export --merge as tfjs-layers: tf.loadLayersModel predicts what pipetrain predict predicts on the LoRA checkpoint', { timeout: 120_000 }, async () => {
  const { out, metadata } = await exportCli(mlp, 'tfjs-layers', '--merge');
  assert.equal(metadata.loraMerged, 'true');
  assert.deepEqual(JSON.parse(metadata.lora!), { ...LORA, targets: ['dense'] });
  const modelJson = JSON.parse(await readFile(join(out, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const loaded = await tf.loadLayersModel({
    load: () => tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
      const bin = await readFile(join(out, manifest[0]!.paths[0]!));
      return [manifest[0]!.weights, bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength)];
    }),
  });
  const inputs = Array.from({ length: 12 }, (_, row) => Array.from({ length: 12 }, (_, col) => Math.sin(row * 12 + col) * 2));
  const theirs = tf.tidy(() => (loaded.predict(tf.tensor2d(inputs)) as tf.Tensor).arraySync() as number[][]);
  loaded.dispose();
  const ours = await predictCli(mlp, inputs.map((input) => ({ input })));
  ours.forEach((prediction, i) => assert.ok(maxAbsDiff(prediction.output as number[], theirs[i]!) <= 1e-5, `line ${i + 1}: ${maxAbsDiff(prediction.output as number[], theirs[i]!)}`));
  // The adapters matter: the base alone predicts something else.
  const checkpoint = await checkpointOf(mlp);
  const base = forwardModel(checkpoint.description.model, checkpoint.description.seed, checkpoint.weights);
  const baseOutput = tf.tidy(() => (base.forward(tf.tensor2d(inputs)).arraySync() as number[][]));
  base.dispose();
  assert.ok(maxAbsDiff(baseOutput.flat(), theirs.flat()) > 1e-3, 'the merged adapters change the predictions');
});

test('without --merge: tfjs-layers and huggingface refuse with the fix and write nothing; safetensors keeps the adapters', { timeout: 120_000 }, async () => {
  for (const [checkpoint, format] of [[mlp, 'tfjs-layers'], [gpt, 'huggingface']] as const) {
    const out = join(await mkdtemp(join(root, 'refused-')), 'export');
    const result = await runCli(['export', checkpoint, '--format', format, '--out', out]);
    assert.equal(result.code, 1, format);
    assert.match(result.stderr, new RegExp(`error: .*checkpoints: checkpoint step \\d+: the checkpoint holds LoRA adapters \\(spec\\.training\\.lora, rank 2\\), which ${format} has no place for; add --merge`), result.stderr);
    await assert.rejects(stat(out), format);
  }
  const { out, metadata } = await exportCli(mlp, 'safetensors');
  assert.equal(metadata.loraMerged, 'false');
  const names = (await readSafetensors(join(out, 'model.safetensors'))).tensors.map((t) => t.name);
  assert.deepEqual(names.filter((name) => name.includes('lora')), ['layer0_dense/kernel/lora_a', 'layer0_dense/kernel/lora_b', 'layer2_dense/kernel/lora_a', 'layer2_dense/kernel/lora_b', 'layer5_dense/kernel/lora_a', 'layer5_dense/kernel/lora_b']);
  const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as { lora: unknown };
  assert.deepEqual(config.lora, { ...LORA, targets: ['dense'] });
  assert.deepEqual((await readdir(out)).sort(), ['config.json', 'model.safetensors']);
});

test('the checksum of the adapted layers\' base is the same at every step; merged exports differ from step to step', { timeout: 120_000 }, async () => {
  const [early, late] = await Promise.all([exportCli(mlp, 'safetensors', '--step', '3', '--merge'), exportCli(mlp, 'safetensors', '--step', '6', '--merge')]);
  assert.match(early.metadata.baseSha256!, /^[0-9a-f]{64}$/);
  assert.equal(early.metadata.baseSha256, late.metadata.baseSha256);
  assert.notEqual(early.metadata.checkpointSha256, late.metadata.checkpointSha256);
  const names = (await readSafetensors(join(late.out, 'model.safetensors'))).tensors.map((t) => t.name);
  assert.deepEqual(names.filter((name) => name.includes('lora')), [], 'merged: no adapters left');
});

test('a LoRA GPT exported --merge as huggingface: a numpy GPT-2 forward from the files gives predict\'s logits on the LoRA checkpoint (<= 1e-5)', { timeout: 120_000 }, async () => {
  const { out, metadata } = await exportCli(gpt, 'huggingface', '--merge');
  assert.equal(metadata.loraMerged, 'true');
  const contexts = [[3], [5, 1, 4, 1, 5], [10, 20, 30, 40, 1, 2, 3, 4]];
  const ours = await predictCli(gpt, contexts.map((tokens) => ({ tokens })));
  const reference = await numpyGpt2Logits(out, contexts);
  ours.forEach((prediction, i) => {
    const logits = prediction.logits as number[];
    assert.ok(maxAbsDiff(logits, reference[i]!) <= 1e-5, `context ${i}: ${maxAbsDiff(logits, reference[i]!)}`);
  });
  // The merged kernels are not the base's: the adapters trained and were folded in.
  const checkpoint = await checkpointOf(gpt);
  const exported = new Map((await readHuggingfaceGpt2(out)).weights.flat().map((w) => [w.name, w.data]));
  const qkv = 'layer2_transformerBlock/attention/qkv/kernel';
  assert.notDeepEqual([...exported.get(qkv)!], [...checkpoint.weights.get(qkv)!]);
});
