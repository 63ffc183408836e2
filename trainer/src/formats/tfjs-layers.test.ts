import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { tinyConvJob, tinyMlpJob } from '../../../test/support/tiny-jobs.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import { buildLayers } from '../model/layers.ts';
import { initBackend } from '../tf/backend.ts';
import { FormatError } from './format-error.ts';
import { encodeTfjsLayers, readTfjsLayers, WEIGHTS_FILE, type LayersAndWeights } from './tfjs-layers.ts';

before(() => initBackend('cpu'));

/** A model built by pipetrain (seeded init), its weights, and its own forward pass. */
function pipetrainModel(spec: PipelineJobSpec) {
  const layers = buildLayers(spec.model.inputShape, spec.model.layers, 7);
  const model: LayersAndWeights = {
    inputShape: spec.model.inputShape,
    layers: spec.model.layers,
    weights: layers.map((layer) => layer.weights.map((w) => ({ name: w.name, shape: w.variable.shape, data: w.variable.dataSync() as Float32Array }))),
  };
  const forward = (x: tf.Tensor) => tf.tidy(() => layers.reduce((h, layer) => layer.apply(h, { training: false, seed: 0, step: 0, microBatch: 0 }), x));
  return { model, forward, dispose: () => layers.forEach((l) => l.weights.forEach((w) => w.variable.dispose())) };
}

async function exportTo(t: { after(fn: () => Promise<void>): void }, model: LayersAndWeights): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tfjs-layers-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const files = await encodeTfjsLayers(model, { job: 'tiny', step: '3' });
  await writeFile(join(dir, 'model.json'), JSON.stringify(files.modelJson));
  await writeFile(join(dir, WEIGHTS_FILE), files.weightsBin);
  return join(dir, 'model.json');
}

/** tf.loadLayersModel reading the files from disk with an IOHandler of its own (not our reader). */
async function loadWithTfjs(modelJson: string): Promise<tf.LayersModel> {
  const json = JSON.parse(await readFile(modelJson, 'utf8')) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  const bin = await readFile(join(modelJson, '..', json.weightsManifest[0]!.paths[0]!));
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) }));
}

for (const [name, spec] of [['MLP (dense, dropout, layer norm, activation, softmax)', tinyMlpJob()], ['CNN (conv2d, max pooling, flatten)', tinyConvJob()]] as const) {
  test(`${name}: tf.loadLayersModel predicts what pipetrain computes (max abs diff <= 1e-5)`, async (t) => {
    const ours = pipetrainModel(spec);
    t.after(ours.dispose);
    const loaded = await loadWithTfjs(await exportTo(t, ours.model));
    const x = tf.randomNormal([5, ...spec.model.inputShape], 0, 1, 'float32', 11);
    const theirs = loaded.predict(x) as tf.Tensor;
    const mine = ours.forward(x);
    const diff = tf.max(tf.abs(tf.sub(theirs, mine))).dataSync()[0]!;
    assert.ok(diff <= 1e-5, `max abs diff ${diff}`);
    assert.ok(tf.max(tf.abs(mine)).dataSync()[0]! > 0, 'a non-trivial output');
    tf.dispose([x, theirs, mine]);
    loaded.dispose();
  });

  test(`${name}: export then import gives the same layers and bit-identical weights`, async (t) => {
    const ours = pipetrainModel(spec);
    t.after(ours.dispose);
    const back = await readTfjsLayers(await exportTo(t, ours.model));
    assert.deepEqual(back.inputShape, spec.model.inputShape);
    assert.deepEqual(back.layers, spec.model.layers.map((layer) => ({ ...layer, name: undefined })).map(({ name: _name, ...rest }) => rest));
    assert.deepEqual(back.weights.map((ws) => ws.map((w) => w.name)), ours.model.weights.map((ws) => ws.map((w) => w.name)));
    assert.deepEqual(back.weights.flat().map((w) => [...new Uint32Array(w.data.buffer, w.data.byteOffset, w.data.length)]), ours.model.weights.flat().map((w) => [...new Uint32Array(w.data.buffer, w.data.byteOffset, w.data.length)]));
  });
}

test('a missing or corrupt model.json, a missing or short weights file, and an unsupported layer get errors naming the file', async (t) => {
  const ours = pipetrainModel(tinyMlpJob());
  t.after(ours.dispose);
  const modelJson = await exportTo(t, ours.model);
  const dir = join(modelJson, '..');
  await assert.rejects(readTfjsLayers(join(dir, 'nope.json')), /nope\.json: missing/);
  const good = await readFile(modelJson, 'utf8');
  await writeFile(modelJson, good.slice(0, 100));
  await assert.rejects(readTfjsLayers(modelJson), (e: Error) => e instanceof FormatError && /model\.json: not valid JSON/.test(e.message));
  await writeFile(modelJson, good);
  const bin = await readFile(join(dir, WEIGHTS_FILE));
  await writeFile(join(dir, WEIGHTS_FILE), bin.subarray(0, bin.length - 8));
  await assert.rejects(readTfjsLayers(modelJson), /the weight files hold \d+ bytes, the manifest describes \d+/);
  await rm(join(dir, WEIGHTS_FILE));
  await assert.rejects(readTfjsLayers(modelJson), /weights\.bin: missing \(model\.json lists it\)/);
  await writeFile(join(dir, WEIGHTS_FILE), bin);
  const json = JSON.parse(good) as { modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } } };
  json.modelTopology.config.layers[0]!.config.activation = 'elu'; // the file itself is snake_case JSON
  await writeFile(modelJson, JSON.stringify(json));
  await assert.rejects(readTfjsLayers(modelJson), /layer 0 \(Dense "layer0_dense"\): activation "elu" is not one pipetrain has/);
  await assert.rejects(encodeTfjsLayers({ ...ours.model, layers: [{ type: 'transformerBlock' } as never] }), /spec\.model\.layers\[0\]: a transformerBlock layer has no tfjs-layers counterpart; export with --format safetensors or huggingface instead/);
});
