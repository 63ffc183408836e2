// Fine-tuning starts: a job started from another job's committed checkpoint (real stage processes,
// any partition) or from a model.json that tfjs-layers itself saved. Shared layers start with the
// source's values bit for bit, a new head starts with its usual seeded values, a dropped layer is
// noted, a mismatch is an error naming the layer and both shapes, and the result does not depend
// on the partition.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { tinyMlpJob } from '../../../test/support/tiny-jobs.ts';
import type { LayerSpec, PipelineJob, PipelineJobSpec } from '../api/schema.ts';
import { loadLatestCommitted, type TensorRecord } from '../checkpoint/index.ts';
import { loadJobData } from '../data/load.ts';
import { jobLayers } from '../model/expand.ts';
import { readCheckpointedModel } from '../generate/checkpoint-model.ts';
import { buildLayers } from '../model/layers.ts';
import { runLocal } from '../runner/local-runner.ts';
import type { ProgressReporter } from '../runner/progress-output.ts';
import { runSpecHash } from '../stage/checkpointing.ts';
import { initBackend } from '../tf/backend.ts';
import { weightsDigest } from '../train/digest.ts';
import { buildStage } from '../train/job-model.ts';
import { trainPipelineInProcess } from '../train/pipeline-in-process.ts';
import { openWeightSource } from './open-source.ts';
import { startFromSource } from './start-from-source.ts';
import { sourceIdentity } from './weight-source.ts';

const quiet: ProgressReporter = { step: () => undefined, info: () => undefined, warn: () => undefined, close: () => undefined };
const noLog = () => undefined;
let root: string;
let sourceDir: string;

before(async () => {
  await initBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'pipetrain-from-'));
  sourceDir = join(root, 'a-checkpoints');
  // Job A: the source, trained for 3 steps on 2 stages; its head is named so a job can replace it.
  const a = job('a', withHead(tinyMlpJob().model.layers, 'head'), { checkpoint: { path: sourceDir, everySteps: 3, keep: 3 } });
  const run = await runLocal({ job: a, baseDir: root, reporter: quiet });
  assert.equal(run.status, 'Succeeded', run.error);
});
after(() => rm(root, { recursive: true, force: true }));

function withHead(layers: LayerSpec[], name: string, units = 4): LayerSpec[] {
  return layers.map((layer, i) => (i === layers.length - 1 ? { ...layer, name, ...(layer.type === 'dense' ? { units } : {}) } : layer));
}

function job(name: string, layers: LayerSpec[], extra: Partial<PipelineJobSpec> = {}, stages = 2): PipelineJob {
  const base = tinyMlpJob();
  const spec = { ...base, model: { ...base.model, layers }, pipeline: { ...base.pipeline, stages }, ...extra } as PipelineJobSpec;
  return { apiVersion: 'pipetrain.io/v1alpha1', kind: 'PipelineJob', metadata: { name }, spec } as PipelineJob;
}

function fromA(layers: LayerSpec[], stages = 2, options: { optimizerState?: boolean } = {}): PipelineJobSpec {
  const spec = job('b', layers, {}, stages).spec;
  return { ...spec, model: { ...spec.model, from: { checkpoint: { path: sourceDir, optimizerState: options.optimizerState ?? false } } } };
}

async function sourceWeights(): Promise<Map<string, TensorRecord>> {
  const loaded = await loadLatestCommitted(sourceDir, { layers: [0, 1, 2, 3, 4, 5], log: noLog });
  return new Map([...loaded!.layers.values()].flatMap((layer) => layer.weights.map((w) => [w.name, w] as const)));
}

const bits = (data: Float32Array) => [...new Uint32Array(data.buffer, data.byteOffset, data.length)];

/** The whole model of `spec`, started from its spec.model.from; returns its weights and the plan. */
async function started(spec: PipelineJobSpec) {
  const { model, optimizer } = buildStage(spec, 0, jobLayers(spec).length);
  try {
    const source = await openWeightSource(spec.model.from!, root, noLog);
    const plan = await startFromSource({ spec, weights: model.weights, optimizer }, source);
    return { plan, weights: new Map(model.weights.map((w) => [w.name, Float32Array.from(w.variable.dataSync() as Float32Array)])) };
  } finally {
    optimizer.dispose();
    model.weights.forEach((w) => w.variable.dispose());
  }
}

test('from a checkpoint: shared layers start equal to the source, a new head starts seeded fresh, the old head is noted as ignored', async () => {
  const spec = fromA(withHead(tinyMlpJob().model.layers, 'classifier', 6));
  const { plan, weights } = await started(spec);
  const source = await sourceWeights();
  for (const name of ['layer0_dense/kernel', 'layer0_dense/bias', 'layer2_dense/kernel', 'layer2_dense/bias', 'layer3_layerNormalization/gamma', 'layer3_layerNormalization/beta']) {
    assert.deepEqual(bits(weights.get(name)!), bits(source.get(name)!.data), name);
  }
  // The new head: what a fresh job of this spec starts with (same seed, same layer index).
  const fresh = buildLayers(spec.model.inputShape, jobLayers(spec), spec.training.seed, 5, 6)[0]!;
  assert.deepEqual(bits(weights.get('layer5_dense/kernel')!), bits(fresh.weights[0]!.variable.dataSync() as Float32Array));
  fresh.weights.forEach((w) => w.variable.dispose());
  assert.notDeepEqual(bits(weights.get('layer0_dense/kernel')!), bits(buildStageKernel(spec)), 'the body is not the fresh initialisation');
  assert.deepEqual(plan.fresh, [5]);
  assert.deepEqual(plan.dropped, [5]);
  assert.match(plan.notes.join('\n'), /spec\.model\.layers\[5\] \(layer 5, dense "classifier"\): not in .*; starts fresh/);
  assert.match(plan.notes.join('\n'), /layer 5, dense "head" is not in spec\.model\.layers; ignored/);
});

function buildStageKernel(spec: PipelineJobSpec): Float32Array {
  const layer = buildLayers(spec.model.inputShape, jobLayers(spec), spec.training.seed, 0, 1)[0]!;
  const data = Float32Array.from(layer.weights[0]!.variable.dataSync() as Float32Array);
  layer.weights.forEach((w) => w.variable.dispose());
  return data;
}

test('from a checkpoint: a shape mismatch names the layer and both shapes; optimizer state needs identical layers', async () => {
  const layers = tinyMlpJob().model.layers.map((layer, i) => (i === 2 && layer.type === 'dense' ? { ...layer, units: 8 } : layer));
  await assert.rejects(started(fromA(withHead(layers, 'head'))), /spec\.model\.layers\[2\]: weight kernel has shape \[16, 8\] in this job but \[16, 16\] in .*a-checkpoints \(step 3\) \(layer2_dense\/kernel\); change the layer to match, or give it a new name/);
  await assert.rejects(started(fromA(withHead(tinyMlpJob().model.layers, 'classifier'), 2, { optimizerState: true })), /optimizerState: cannot carry the optimizer state over: the layers are not identical/);
  // Identical layers: the Adam moments come along too.
  const same = fromA(withHead(tinyMlpJob().model.layers, 'head'), 2, { optimizerState: true });
  const { model, optimizer } = buildStage(same, 0, 6);
  await startFromSource({ spec: same, weights: model.weights, optimizer }, await openWeightSource(same.model.from!, root, noLog));
  const loaded = await loadLatestCommitted(sourceDir, { layers: [0], log: noLog });
  const m = loaded!.layers.get(0)!.slots.find((s) => s.name === 'layer0_dense/kernel/m')!;
  assert.deepEqual(bits(optimizer.state().slots.get('layer0_dense/kernel/m')!.dataSync() as Float32Array), bits(m.data));
  optimizer.dispose();
  model.weights.forEach((w) => w.variable.dispose());
});

test('from a checkpoint: 1 and 3 stage processes end with the same digest, and the run spec hash covers the source', async () => {
  const layers = withHead(tinyMlpJob().model.layers, 'classifier');
  const digests: string[] = [];
  for (const stages of [1, 3]) {
    const spec = fromA(layers, stages);
    const run = await runLocal({ job: { ...job(`b${stages}`, layers), spec: { ...spec, checkpoint: { path: join(root, `b${stages}`), everySteps: 2, keep: 3 } } as PipelineJobSpec }, baseDir: root, reporter: quiet });
    assert.equal(run.status, 'Succeeded', run.error);
    digests.push(run.weightsSha256!);
  }
  assert.equal(digests[0], digests[1]);
  // In process too, and different from the same job started fresh.
  const spec = fromA(layers, 3);
  const data = await loadJobData(spec);
  const source = await openWeightSource(spec.model.from!, root, noLog);
  const inProcess = await trainPipelineInProcess(spec, data, [2, 2, 2], undefined, source);
  assert.equal(weightsDigest(inProcess.weights), digests[0]);
  const fresh = await trainPipelineInProcess({ ...spec, model: { ...spec.model, from: undefined } }, data, [2, 2, 2]);
  assert.notEqual(weightsDigest(fresh.weights), digests[0]);
  const asJob = { ...job('b', layers), spec };
  assert.notEqual(runSpecHash(asJob, undefined, sourceIdentity(source)), runSpecHash(asJob, undefined, { ...sourceIdentity(source), checksum: '0'.repeat(64) }));
});

test('LoRA from a checkpoint: the adapted layers keep the source\'s base bit for bit, the adapters start seeded, and the checkpoint records lora and its base', async () => {
  const layers = tinyMlpJob().model.layers;
  const lora = { rank: 2, alpha: 4, targets: ['dense' as const] };
  const fromSource = fromA(withHead(layers, 'head'), 2);
  const spec = { ...fromSource, training: { ...fromSource.training, lora }, checkpoint: { path: join(root, 'lora'), everySteps: 3, keep: 3 } } as PipelineJobSpec;
  const { weights } = await started(spec);
  const source = await sourceWeights();
  assert.deepEqual(bits(weights.get('layer0_dense/kernel')!), bits(source.get('layer0_dense/kernel')!.data));
  assert.deepEqual([...weights.get('layer0_dense/kernel/lora_b')!], new Array(2 * 16).fill(0), 'B starts at zeros');
  const run = await runLocal({ job: { ...job('lora', layers), spec }, baseDir: root, reporter: quiet });
  assert.equal(run.status, 'Succeeded', run.error);
  const checkpoint = await readCheckpointedModel(join(root, 'lora'), { log: noLog });
  assert.deepEqual(checkpoint.description.lora, lora);
  assert.deepEqual(checkpoint.description.baseFrom, spec.model.from);
  for (const name of ['layer0_dense/kernel', 'layer0_dense/bias', 'layer2_dense/kernel', 'layer5_dense/kernel']) {
    assert.deepEqual(bits(checkpoint.weights.get(name)!), bits(source.get(name)!.data), `${name} is the source's after training`);
  }
  assert.notDeepEqual([...checkpoint.weights.get('layer0_dense/kernel/lora_b')!], new Array(2 * 16).fill(0), 'the adapters trained');
  const data = await loadJobData(spec);
  const inProcess = await trainPipelineInProcess(spec, data, [1, 5], undefined, await openWeightSource(spec.model.from!, root, noLog));
  assert.equal(weightsDigest(inProcess.weights), run.weightsSha256);
});

/** A model.json and weights.bin as tf.LayersModel.save writes them (the artifacts of tfjs-layers' own save). */
async function saveSequential(dir: string, model: tf.Sequential): Promise<string> {
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const json = { modelTopology: artifacts.modelTopology, format: artifacts.format, generatedBy: artifacts.generatedBy, convertedBy: artifacts.convertedBy, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] };
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    await writeFile(join(dir, 'weights.bin'), Buffer.from(artifacts.weightData as ArrayBuffer));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return join(dir, 'model.json');
}

test('from a tfjs-layers model.json: the first step starts from the file\'s weights, in any partition', async (t) => {
  const dir = await mkdtemp(join(root, 'tfjs-'));
  const keras = tf.sequential();
  keras.add(tf.layers.dense({ inputShape: [12], units: 16, activation: 'relu' }));
  keras.add(tf.layers.dropout({ rate: 0.2 }));
  keras.add(tf.layers.dense({ units: 16 }));
  keras.add(tf.layers.layerNormalization());
  keras.add(tf.layers.activation({ activation: 'tanh' }));
  keras.add(tf.layers.dense({ units: 4, activation: 'softmax' }));
  const modelJson = await saveSequential(dir, keras);
  const expected = keras.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
  keras.dispose();
  t.after(() => undefined);
  const base = tinyMlpJob();
  const spec: PipelineJobSpec = { ...base, model: { ...base.model, from: { tfjsLayers: modelJson } } };
  const { weights } = await started(spec);
  assert.deepEqual([...weights.values()].map(bits), expected.map(bits));
  const data = await loadJobData(spec);
  const source = await openWeightSource(spec.model.from!, root, noLog);
  const one = await trainPipelineInProcess(spec, data, [6], undefined, source);
  const three = await trainPipelineInProcess(spec, data, [2, 2, 2], undefined, source);
  assert.equal(weightsDigest(one.weights), weightsDigest(three.weights));
});
