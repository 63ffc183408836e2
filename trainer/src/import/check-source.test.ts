// What `pipetrain validate` and `pipetrain train` say about spec.model.from when they read a job
// file: `layers: fromModel` filled in from a model.json tfjs-layers saved, and every bad source (a
// missing or corrupt model.json, an unsupported layer class, a missing checkpoint, layers that do
// not fit, two kinds at once, a missing Hugging Face folder) as a problem at its field with the fix.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadPipelineJobFile, type LoadResult } from '../api/load.ts';
import { initBackend } from '../tf/backend.ts';
import { modelSourceHooks } from './check-source.ts';

let root: string;
before(async () => {
  await initBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'pipetrain-check-source-'));
  await mkdir(join(root, 'models'));
  await saveSequential(join(root, 'models'), 'mlp', [
    tf.layers.dense({ inputShape: [12], units: 16, activation: 'relu' }),
    tf.layers.dropout({ rate: 0.1 }),
    tf.layers.dense({ units: 4, activation: 'softmax' }),
  ]);
  await saveSequential(join(root, 'models'), 'batchnorm', [tf.layers.dense({ inputShape: [12], units: 4 }), tf.layers.batchNormalization(), tf.layers.activation({ activation: 'softmax' })]);
});
after(() => rm(root, { recursive: true, force: true }));

/** `<name>.json` and `<name>.bin` as tf.LayersModel.save writes them (tfjs-layers' own artifacts). */
async function saveSequential(dir: string, name: string, layers: tf.layers.Layer[]): Promise<void> {
  const model = tf.sequential({ layers });
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const json = { modelTopology: artifacts.modelTopology, format: artifacts.format, generatedBy: artifacts.generatedBy, weightsManifest: [{ paths: [`${name}.bin`], weights: artifacts.weightSpecs }] };
    await writeFile(join(dir, `${name}.json`), JSON.stringify(json));
    await writeFile(join(dir, `${name}.bin`), Buffer.from(artifacts.weightData as ArrayBuffer));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  model.dispose();
}

const LAYERS = `
      - { type: dense, units: 16, activation: relu }
      - { type: dropout, rate: 0.1 }
      - { type: dense, units: 4, activation: softmax }`;

/** A job file in `root` (so source paths are relative to it) with the given model lines. */
async function load(model: string, name = 'job.yaml', specLines = ''): Promise<LoadResult> {
  const yaml = `apiVersion: pipetrain.io/v1alpha1
kind: PipelineJob
metadata: { name: fine-tune }
spec:
  model:
${model}
    loss: sparseCategoricalCrossentropy
  data:
    dataset: { type: synthetic, seed: 3, samples: 100, featureShape: [12], classes: 4 }
    batchSize: 8
  training: { steps: 2, optimizer: { type: adam, learningRate: 0.01 }, backend: cpu }
${specLines}`;
  const file = join(root, name);
  await writeFile(file, yaml);
  return loadPipelineJobFile(file, [], modelSourceHooks(file));
}

function problems(result: LoadResult): string[] {
  assert.equal(result.ok, false, 'the job is refused');
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

test('layers: fromModel takes the layers and input shape of the model.json (a path relative to the job file)', async () => {
  const result = await load('    from: { tfjsLayers: models/mlp.json }\n    layers: fromModel');
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual(result.job.spec.model.inputShape, [12]);
  assert.deepEqual(result.job.spec.model.layers.map((l) => l.type), ['dense', 'dropout', 'dense']);
  assert.equal(result.job.spec.model.from?.tfjsLayers, 'models/mlp.json');
  const given = await load(`    inputShape: [12]\n    from: { tfjsLayers: models/mlp.json }\n    layers:${LAYERS}`);
  assert.ok(given.ok, JSON.stringify(given));
});

test('a missing or corrupt model.json, and an unsupported layer class, are problems at spec.model.from.tfjsLayers', async () => {
  assert.match(problems(await load('    from: { tfjsLayers: models/none.json }\n    layers: fromModel')).join('\n'), /^spec\.model\.from\.tfjsLayers: .*models\/none\.json: missing/);
  await writeFile(join(root, 'models', 'corrupt.json'), '{"modelTopology": ');
  assert.match(problems(await load(`    inputShape: [12]\n    from: { tfjsLayers: models/corrupt.json }\n    layers:${LAYERS}`)).join('\n'), /^spec\.model\.from\.tfjsLayers: .*corrupt\.json: not valid JSON/);
  assert.match(problems(await load('    from: { tfjsLayers: models/batchnorm.json }\n    layers: fromModel')).join('\n'), /^spec\.model\.from\.tfjsLayers: .*tfjs-layers class BatchNormalization has no pipetrain counterpart/);
  assert.match(problems(await load(`    inputShape: [12]\n    layers: fromModel`)).join('\n'), /^spec\.model\.layers: "fromModel" takes the layers of a model file: set spec\.model\.from\.tfjsLayers/);
});

test('given layers that do not fit the file are a problem at the layer, with both shapes and the fix', async () => {
  const layers = LAYERS.replace('units: 16', 'units: 8');
  const found = problems(await load(`    inputShape: [12]\n    from: { tfjsLayers: models/mlp.json }\n    layers:${layers}`));
  assert.deepEqual(found.length, 1);
  assert.match(found[0]!, /^spec\.model\.layers\[0\]: weight kernel has shape \[12, 8\] in this job but \[12, 16\] in .*mlp\.json \(layer0_dense\/kernel\); change the layer to match, or give it a new name to start it fresh$/);
  // Renamed, the narrower layer starts fresh; so must the head after it, whose input is narrower too.
  const renamed = layers.replace('units: 8,', 'units: 8, name: narrow,').replace('units: 4,', 'units: 4, name: head,');
  const result = await load(`    inputShape: [12]\n    from: { tfjsLayers: models/mlp.json }\n    layers:${renamed}`);
  assert.ok(result.ok, JSON.stringify(result));
});

test('a missing checkpoint, two kinds at once, and a missing Hugging Face folder are problems naming the field', async () => {
  assert.match(problems(await load(`    inputShape: [12]\n    from: { checkpoint: { path: nowhere } }\n    layers:${LAYERS}`)).join('\n'), /^spec\.model\.from\.checkpoint\.path: .*nowhere holds no committed checkpoint; give the spec\.checkpoint\.path of a job that has saved one/);
  assert.match(problems(await load(`    inputShape: [12]\n    from: { checkpoint: { path: nowhere }, tfjsLayers: models/mlp.json }\n    layers:${LAYERS}`)).join('\n'), /^spec\.model\.from: give exactly one of checkpoint, tfjsLayers, huggingface; got checkpoint and tfjsLayers/);
  assert.match(problems(await load(`    inputShape: [12]\n    from: { huggingface: gpt2 }\n    layers:${LAYERS}`)).join('\n'), /^spec\.model\.from\.huggingface: .*\/gpt2\/config\.json: /);
});

test('from.checkpoint.path naming the job\'s own checkpoint folder is a problem, relative or absolute', async () => {
  const own = /^spec\.model\.from\.checkpoint\.path: is this job's own spec\.checkpoint\.path/;
  for (const [fromPath, ownPath] of [['ckpt', join(root, 'ckpt')], [join(root, 'ckpt'), './ckpt/'], ['ckpt', 'ckpt']]) {
    const result = await load(`    inputShape: [12]\n    from: { checkpoint: { path: '${fromPath}' } }\n    layers:${LAYERS}`, 'job.yaml', `  checkpoint: { path: '${ownPath}' }\n`);
    assert.match(problems(result).join('\n'), own, `${fromPath} vs ${ownPath}`);
  }
});
