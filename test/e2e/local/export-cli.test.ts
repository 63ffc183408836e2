// `pipetrain export` and `pipetrain predict` end to end, on checkpoints made by really training
// (stage processes, cpu), each format checked with a loader that is not ours: tfjs-layers'
// tf.loadLayersModel, Python's safetensors, Hugging Face transformers (FlaxGPT2LMHeadModel) and a
// numpy GPT-2 forward written from the Hugging Face files alone. Every format also reads back to the checkpoint's weights bit for bit.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { COMMIT_FILE, stepDirName } from '../../../trainer/src/checkpoint/index.ts';
import { readHuggingfaceGpt2 } from '../../../trainer/src/formats/huggingface.ts';
import { readSafetensors } from '../../../trainer/src/formats/safetensors.ts';
import { readTfjsLayers } from '../../../trainer/src/formats/tfjs-layers.ts';
import { readCheckpointedModel, type CheckpointedModel } from '../../../trainer/src/generate/checkpoint-model.ts';
import { jobLayers } from '../../../trainer/src/model/expand.ts';
import { initBackend } from '../../../trainer/src/tf/backend.ts';
import { PIPETRAIN_VERSION } from '../../../trainer/src/version.ts';
import { gptWorkspace } from '../../support/gpt-jobs.ts';
import { numpyGpt2Logits } from '../../support/numpy-gpt2.ts';
import { transformersGpt2Logits } from '../../support/transformers-gpt2.ts';
import { runPython } from '../../support/python.ts';
import { parseSummary, runCli } from './cli-runner.ts';

interface Trained { dir: string; checkpoints: string }

let root = '';
let mlp: Trained;
let gpt: Trained;
let biasedGpt: Trained;

/** The tiny MLP of test/support/tiny-jobs.ts, as a job file, checkpointed at steps 3 and 6. */
async function trainMlp(): Promise<Trained> {
  const dir = await mkdtemp(join(root, 'mlp-'));
  const job = {
    apiVersion: 'pipetrain.io/v1alpha1', kind: 'PipelineJob', metadata: { name: 'tiny-mlp' },
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
      training: { steps: 6, optimizer: { type: 'adam', learningRate: 0.01 }, backend: 'cpu' },
      checkpoint: { path: 'checkpoints', everySteps: 3 },
    },
  };
  await writeFile(join(dir, 'job.yaml'), JSON.stringify(job));
  const result = await runCli(['train', join(dir, 'job.yaml'), '--json']);
  assert.equal(parseSummary(result).status, 'Succeeded', result.stderr);
  return { dir, checkpoints: join(dir, 'checkpoints') };
}

/** A tiny GPT, 4 steps on 2 stages; `model` replaces the default (tied head, no biases, mlpRatio 2). */
async function trainGpt(model?: Record<string, unknown>): Promise<Trained> {
  const workspace = await gptWorkspace(model ? { spec: { model } } : {});
  const result = await runCli(['train', workspace.job, '--json', '--sample-tokens', '0', '--set', 'spec.pipeline.stages=2', '--set', 'spec.training.steps=4']);
  assert.equal(parseSummary(result).status, 'Succeeded', result.stderr);
  return workspace;
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

const bits = (data: Float32Array) => [...new Uint32Array(data.buffer, data.byteOffset, data.length)];
const tensorsOf = (layers: { name: string; shape: number[]; data: Float32Array }[][]) => layers.map((ws) => ws.map((w) => [w.name, w.shape, bits(w.data)]));
const checkpointOf = (location: string, step?: number) => readCheckpointedModel(location, { step, log: () => {} });
const maxAbsDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pipetrain-export-'));
  await initBackend('cpu');
  [mlp, gpt, biasedGpt] = await Promise.all([
    trainMlp(),
    trainGpt(),
    // Every bias GPT-2 has, an untied head, 4 heads, mlpRatio 4, and more positions than the window.
    trainGpt({
      inputShape: [8], loss: 'tokenCrossentropy',
      layers: [
        { type: 'embedding', units: 16 }, { type: 'positionalEmbedding', maxLength: 12, dropout: 0.1 },
        { type: 'transformerBlock', heads: 4, repeat: 2, dropout: 0.1, useBias: true },
        { type: 'layerNormalization', epsilon: 1e-5 }, { type: 'lmHead', tied: false },
      ],
    }),
  ]);
});

after(() => Promise.all([root, gpt.dir, biasedGpt.dir].map((dir) => rm(dir, { recursive: true, force: true }))));

test('tfjs-layers: tf.loadLayersModel on the export predicts what pipetrain predict predicts; it reads back bit for bit', { timeout: 120_000 }, async () => {
  const { out } = await exportCli(mlp.checkpoints, 'tfjs-layers');
  assert.deepEqual((await readdir(out)).sort(), ['model.json', 'weights.bin']);
  // tfjs-layers' own loader: model.json's weightsManifest resolved by tfjs-core's artifact reader.
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
  const ours = await predictCli(mlp.checkpoints, inputs.map((input) => ({ input })));
  assert.equal(ours.length, inputs.length);
  ours.forEach((prediction, i) => {
    const output = prediction.output as number[];
    assert.ok(maxAbsDiff(output, theirs[i]!) <= 1e-5, `line ${i + 1}: ${maxAbsDiff(output, theirs[i]!)}`);
    assert.equal(prediction.class, output.indexOf(Math.max(...output)));
  });
  const checkpoint = await checkpointOf(mlp.checkpoints);
  assert.deepEqual(tensorsOf((await readTfjsLayers(join(out, 'model.json'))).weights), tensorsOf(checkpoint.layers));
});

test('safetensors: Python safetensors reads our names, shapes and bits; config.json holds the job\'s model; it reads back bit for bit', { timeout: 120_000 }, async () => {
  for (const trained of [mlp, gpt]) {
    const { out } = await exportCli(trained.checkpoints, 'safetensors');
    const checkpoint = await checkpointOf(trained.checkpoints);
    const python = JSON.parse(await runPython(
      `import sys, json
from safetensors import safe_open
with safe_open(sys.argv[1], framework="numpy") as f:
    print(json.dumps({"metadata": f.metadata(), "tensors": [[k, list(f.get_tensor(k).shape), str(f.get_tensor(k).dtype), f.get_tensor(k).view("uint32").ravel().tolist()] for k in f.keys()]}))`,
      [join(out, 'model.safetensors')],
    )) as { metadata: Record<string, string>; tensors: [string, number[], string, number[]][] };
    const expected = checkpoint.layers.flat().map((w) => [w.name, w.shape, 'float32', bits(w.data)]);
    assert.deepEqual(python.tensors, [...expected].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)), 'safe_open lists keys sorted');
    assert.equal(python.metadata.job, checkpoint.jobName);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as { model: unknown; tokenizer?: unknown };
    assert.deepEqual(config.model, checkpoint.description.model);
    assert.deepEqual(config.tokenizer, checkpoint.description.tokenizer);
    assert.deepEqual((await readSafetensors(join(out, 'model.safetensors'))).tensors.map((w) => [w.name, w.shape, bits(w.data)]), checkpoint.layers.flat().map((w) => [w.name, w.shape, bits(w.data)]));
  }
});

for (const [name, trained] of [['tied head, no biases, mlpRatio 2', () => gpt], ['untied head, every bias, mlpRatio 4, 12 positions', () => biasedGpt]] as const) {
  test(`huggingface (${name}): transformers' FlaxGPT2LMHeadModel and a numpy GPT-2 forward from the files give pipetrain predict's logits (<= 1e-4); it reads back bit for bit`, { timeout: 120_000 }, async () => {
    const { checkpoints } = trained();
    const { out } = await exportCli(checkpoints, 'huggingface');
    assert.deepEqual((await readdir(out)).sort(), ['config.json', 'model.safetensors', 'vocab.json']);
    const checkpoint = await checkpointOf(checkpoints);
    const contexts = [[3], [5, 1, 4, 1, 5], [10, 20, 30, 40, 1, 2, 3, 4]];
    const ours = await predictCli(checkpoints, contexts.map((tokens) => ({ tokens })));
    const reference = await numpyGpt2Logits(out, contexts);
    const transformers = await transformersGpt2Logits(out, contexts);
    ours.forEach((prediction, i) => {
      const logits = prediction.logits as number[];
      assert.equal(logits.length, reference[i]!.length);
      assert.ok(maxAbsDiff(logits, reference[i]!) <= 1e-4, `context ${i}: ${maxAbsDiff(logits, reference[i]!)}`);
      assert.ok(maxAbsDiff(logits, transformers[i]!) <= 1e-4, `context ${i}, transformers: ${maxAbsDiff(logits, transformers[i]!)}`);
    });
    const back = await readHuggingfaceGpt2(out);
    assert.deepEqual(tensorsOf(back.weights), tensorsOf(checkpoint.layers));
    assert.deepEqual(back.tokenizer, checkpoint.description.tokenizer, 'the char vocabulary travels in vocab.json');
    assert.deepEqual(back.inputShape, checkpoint.description.model.inputShape);
    const withoutNames = (layers: object[]) => layers.map((layer) => Object.fromEntries(Object.entries(layer).filter(([key, value]) => key !== 'name' && value !== undefined)));
    const expected = jobLayers({ model: checkpoint.description.model }).map((layer) => (layer.type === 'lmHead' && layer.tied ? { type: 'lmHead', tied: true } : layer));
    assert.deepEqual(withoutNames(back.layers), withoutNames(expected));
  });
}

test('every export states job, step, commit checksum and version; --step and a step folder pick an older checkpoint', { timeout: 120_000 }, async () => {
  const sha = async (step: number) => createHash('sha256').update(await readFile(join(mlp.checkpoints, stepDirName(step), COMMIT_FILE))).digest('hex');
  const expected = (step: number, checksum: string) => ({ job: 'tiny-mlp', step: String(step), checkpointSha256: checksum, pipetrainVersion: PIPETRAIN_VERSION });
  const [newest, older, stepFolder] = await Promise.all([
    exportCli(mlp.checkpoints, 'tfjs-layers'),
    exportCli(mlp.checkpoints, 'safetensors', '--step', '3'),
    exportCli(join(mlp.checkpoints, stepDirName(3)), 'tfjs-layers'),
  ]);
  assert.deepEqual(newest.metadata, expected(6, await sha(6)));
  assert.deepEqual(older.metadata, expected(3, await sha(3)));
  assert.deepEqual(stepFolder.metadata, expected(3, await sha(3)));
  const modelJson = JSON.parse(await readFile(join(newest.out, 'model.json'), 'utf8')) as { userDefinedMetadata: unknown };
  assert.deepEqual(modelJson.userDefinedMetadata, expected(6, await sha(6)));
  assert.deepEqual((await readSafetensors(join(older.out, 'model.safetensors'))).metadata, { format: 'pt', ...expected(3, await sha(3)) });
  assert.deepEqual((JSON.parse(await readFile(join(older.out, 'config.json'), 'utf8')) as { pipetrain: unknown }).pipetrain, expected(3, await sha(3)));
  const hf = await exportCli(gpt.checkpoints, 'huggingface');
  const gptChecksum = createHash('sha256').update(await readFile(join(gpt.checkpoints, stepDirName(4), COMMIT_FILE))).digest('hex');
  const config = JSON.parse(await readFile(join(hf.out, 'config.json'), 'utf8')) as { pipetrain: Record<string, unknown> };
  assert.deepEqual({ job: config.pipetrain.job, step: config.pipetrain.step, checkpointSha256: config.pipetrain.checkpointSha256, pipetrainVersion: config.pipetrain.pipetrainVersion }, { job: 'tiny-gpt', step: '4', checkpointSha256: gptChecksum, pipetrainVersion: PIPETRAIN_VERSION });
  const older3: CheckpointedModel = await checkpointOf(mlp.checkpoints, 3);
  assert.deepEqual(tensorsOf((await readTfjsLayers(join(stepFolder.out, 'model.json'))).weights), tensorsOf(older3.layers));
});

test('bad input gets one line naming the file and the fix, and nothing is written', { timeout: 120_000 }, async () => {
  const place = await mkdtemp(join(root, 'bad-'));
  const cases: [string, string[], RegExp][] = [
    ['an MLP as huggingface', [mlp.checkpoints, '--format', 'huggingface'], /^error: .*checkpoints: checkpoint step 6: --format huggingface exports GPT models only, and it is not a GPT \(layer 0 is dense; .*\); export with --format safetensors or tfjs-layers instead$/],
    ['a GPT as tfjs-layers', [gpt.checkpoints, '--format', 'tfjs-layers'], /^error: .*checkpoints: checkpoint step 4: spec\.model\.layers\[0\]: an embedding layer has no tfjs-layers counterpart; export with --format safetensors or huggingface instead$/],
    ['a missing checkpoint', [join(place, 'nope'), '--format', 'safetensors'], /^error: .*nope: no such folder; give a job's checkpoint folder \(spec\.checkpoint\.path\)$/],
    ['a step that is not committed', [mlp.checkpoints, '--format', 'safetensors', '--step', '5'], /^error: .*checkpoints: no committed checkpoint of step 5; committed steps: 6, 3$/],
  ];
  for (const [name, args, expected] of cases) {
    const out = join(place, name.replaceAll(' ', '-'));
    const result = await runCli(['export', ...args, '--out', out]);
    assert.equal(result.code, 1, name);
    assert.equal(result.stderr.trim().split('\n').length, 1, `${name}: one line\n${result.stderr}`);
    assert.match(result.stderr.trim(), expected, name);
    assert.equal(result.stdout, '', name);
  }
  // An existing non-empty --out is kept as it was; --overwrite replaces it.
  const existing = join(place, 'existing');
  await mkdir(existing);
  await writeFile(join(existing, 'keep.txt'), 'mine');
  const refused = await runCli(['export', mlp.checkpoints, '--format', 'safetensors', '--out', existing]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr.trim(), /^error: .*existing: exists and is not empty; choose another --out, or add --overwrite to replace it$/);
  assert.deepEqual(await readdir(existing), ['keep.txt']);
  // A failing export with --overwrite leaves the old folder too.
  const failing = await runCli(['export', mlp.checkpoints, '--format', 'huggingface', '--out', existing, '--overwrite']);
  assert.equal(failing.code, 1);
  assert.deepEqual(await readdir(existing), ['keep.txt']);
  assert.deepEqual((await readdir(place)).sort(), ['existing'], 'no temporary folder and no partial export is left behind');
  const replaced = await runCli(['export', mlp.checkpoints, '--format', 'safetensors', '--out', existing, '--overwrite']);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.deepEqual((await readdir(existing)).sort(), ['config.json', 'model.safetensors']);
  // predict: a line that does not fit the model is named with its number.
  const input = join(place, 'input.jsonl');
  await writeFile(input, `${JSON.stringify({ input: Array(12).fill(0) })}\n${JSON.stringify({ input: [1, 2] })}\n`);
  const wrong = await runCli(['predict', mlp.checkpoints, '--input', input]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr.trim(), /^error: .*input\.jsonl line 2: "input" has 2 numbers; the model takes shape \[12\], 12 numbers$/);
});
