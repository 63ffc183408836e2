// Freezing (fine-tuning), with real training on cpu: frozen weights come out bit-identical to their
// initial values (even under AdamW's weight decay), a pipeline with frozen layers computes bit for
// bit what single-process training computes (2-4 stages, GPipe and 1F1B), and leading stages with
// nothing to train receive no gradient frame at all.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../tf/backend.ts';
import { loadJobData, loadTrainingData } from '../data/load.ts';
import { modelLayerCount } from '../model/expand.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import { FrameKind } from '../transport/index.ts';
import { tinyMlpJob } from '../../../test/support/tiny-jobs.ts';
import { tinyGptJob, tinyTokenFolder } from '../../../test/support/gpt-jobs.ts';
import { tiedCopyMismatches, weightsDigest, type WeightBytes } from './digest.ts';
import { buildStage } from './job-model.ts';
import { trainPipelineInProcess } from './pipeline-in-process.ts';
import { trainSingleProcess } from './reference.ts';

/** The weights a job starts with (before any step). */
function initialWeights(spec: PipelineJobSpec): WeightBytes[] {
  const { model, optimizer } = buildStage(spec, 0, modelLayerCount(spec.model.layers));
  const weights = model.weightBytes();
  optimizer.dispose();
  model.weights.forEach((w) => w.variable.dispose());
  return weights;
}

/** Names of the weights of `layers` whose values differ between `a` and `b` (bit for bit). */
function changed(a: WeightBytes[], b: WeightBytes[], layers: (index: number) => boolean): string[] {
  const before = new Map(a.filter((w) => !w.tiedCopy).map((w) => [w.name, Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength)]));
  return b
    .filter((w) => !w.tiedCopy && layers(w.layerIndex))
    .filter((w) => Buffer.compare(before.get(w.name)!, Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength)) !== 0)
    .map((w) => w.name);
}

const gradientFrames = (frames: Map<number, number>) => frames.get(FrameKind.Gradient) ?? 0;

/** The tiny MLP (dense, dropout, dense, layerNorm, activation, dense) with AdamW and clipping. */
function frozenMlp(freeze: { layers?: number; firstLayerTrainable?: boolean }, pipeline: Partial<PipelineJobSpec['pipeline']>): PipelineJobSpec {
  const base = tinyMlpJob();
  const layers = base.model.layers.map((layer, i) => (i === 0 && freeze.firstLayerTrainable === false ? { ...layer, trainable: false } : layer));
  return tinyMlpJob({
    model: { ...base.model, layers },
    training: { ...base.training, optimizer: { ...base.training.optimizer, type: 'adamw', weightDecay: 0.1 }, ...(freeze.layers ? { freeze: { layers: freeze.layers } } : {}) },
    pipeline: { ...base.pipeline, microBatches: 3, partitionPolicy: 'parameters', ...pipeline },
    data: { ...base.data, batchSize: 12 },
  });
}

describe('freezing: frozen weights stay, pipelines equal single-process training (cpu, bit for bit)', () => {
  before(async () => {
    await initBackend('cpu');
  });

  for (const partition of [[2, 4], [1, 1, 4], [1, 2, 2, 1]]) {
    for (const schedule of ['GPipe', '1F1B'] as const) {
      test(`MLP, first dense frozen (trainable: false), partition ${partition.join('+')}, ${schedule}`, async () => {
        const spec = frozenMlp({ firstLayerTrainable: false }, { stages: partition.length, schedule });
        const data = await loadJobData(spec);
        const before = tf.memory().numTensors;
        const reference = await trainSingleProcess(spec, data);
        const pipelined = await trainPipelineInProcess(spec, data, partition);
        assert.equal(weightsDigest(pipelined.weights), weightsDigest(reference.weights));
        assert.deepEqual(pipelined.losses, reference.losses);
        const initial = initialWeights(spec);
        assert.deepEqual(changed(initial, pipelined.weights, (layer) => layer === 0), [], 'the frozen dense layer keeps its initial weights');
        assert.equal(changed(initial, pipelined.weights, (layer) => layer > 0).length, 6, 'the other weights trained: 2 kernels, 2 biases, gamma, beta');
        // Stage 0 (and stage 1 when it holds only the dropout) has nothing to train before or in it.
        const frozenStages = partition[0] === 1 && partition[1] === 1 ? 2 : 1;
        pipelined.receivedFrames.forEach((frames, stage) => {
          if (stage < frozenStages) assert.equal(gradientFrames(frames), 0, `stage ${stage} receives no gradient frames`);
          else if (stage < partition.length - 1) assert.equal(gradientFrames(frames), 3 * 3, `stage ${stage}: 3 steps × 3 micro-batches`);
        });
        assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
      });
    }
  }

  // Without clipping no norm travels for clipping's sake: the frozen leading stages (no RECV_B) are
  // held to one step ahead only by the per-step norm handshake (norm-exchange.ts). Before it, stage 0
  // sent step 2 while stage 1 was in step 0 and the screen closed the link.
  for (const [partition, freezeLayers] of [[[2, 4], 1], [[1, 2, 3], 3]] as const) {
    for (const schedule of ['GPipe', '1F1B'] as const) {
      test(`no gradientClipNorm: freeze.layers ${freezeLayers}, partition ${partition.join('+')}, ${schedule}`, async () => {
        const clipped = frozenMlp({ layers: freezeLayers }, { stages: partition.length, schedule });
        const spec = { ...clipped, training: { ...clipped.training, steps: 5, gradientClipNorm: undefined } };
        const data = await loadJobData(spec);
        const reference = await trainSingleProcess(spec, data);
        const pipelined = await trainPipelineInProcess(spec, data, [...partition]);
        assert.equal(weightsDigest(pipelined.weights), weightsDigest(reference.weights));
        assert.deepEqual(pipelined.losses, reference.losses);
        const frozenStages = partition.length - 1;
        pipelined.receivedFrames.slice(0, frozenStages).forEach((frames, stage) => assert.equal(gradientFrames(frames), 0, `stage ${stage} receives no gradient frames`));
        assert.equal(pipelined.receivedFrames[0]!.get(FrameKind.GradNorm), 5, 'stage 0 gets the squared sums (none: an empty list) once per step, the handshake');
      });
    }
  }

  test('freeze.layers: 3 freezes dense, dropout, dense: with partition 2+1+3 stages 0 and 1 run no backward', async () => {
    const spec = frozenMlp({ layers: 3 }, { stages: 3, schedule: '1F1B' });
    const data = await loadJobData(spec);
    const reference = await trainSingleProcess(spec, data);
    const pipelined = await trainPipelineInProcess(spec, data, [2, 1, 3]);
    assert.equal(weightsDigest(pipelined.weights), weightsDigest(reference.weights));
    assert.deepEqual(changed(initialWeights(spec), pipelined.weights, (layer) => layer < 3), []);
    assert.deepEqual(pipelined.receivedFrames.map(gradientFrames), [0, 0, 0]);
  });

  test('a frozen layer between trainable ones: its stage computes only the input gradient', async () => {
    const base = frozenMlp({}, { stages: 3, schedule: 'GPipe' });
    const layers = base.model.layers.map((layer, i) => (i === 2 ? { ...layer, trainable: false } : layer));
    const spec = { ...base, model: { ...base.model, layers } };
    const data = await loadJobData(spec);
    const reference = await trainSingleProcess(spec, data);
    const pipelined = await trainPipelineInProcess(spec, data, [2, 1, 3]);
    assert.equal(weightsDigest(pipelined.weights), weightsDigest(reference.weights));
    assert.deepEqual(changed(initialWeights(spec), pipelined.weights, (layer) => layer === 2), []);
    assert.equal(changed(initialWeights(spec), pipelined.weights, (layer) => layer === 0).length, 2, 'the first dense trains through the frozen one');
    assert.deepEqual(pipelined.receivedFrames.map(gradientFrames).slice(0, 2), [9, 9]);
  });

  test('frozen weights have no optimizer slots (so checkpoints hold none for them)', () => {
    const spec = frozenMlp({ firstLayerTrainable: false }, { stages: 1 });
    const { model, optimizer } = buildStage(spec, 0, 6);
    const slots = [...optimizer.state().slots.keys()];
    assert.ok(slots.length > 0);
    assert.deepEqual(slots.filter((name) => name.startsWith('layer0_')), []);
    assert.deepEqual(model.trainable.map((w) => w.name).filter((name) => name.startsWith('layer0_')), []);
    optimizer.dispose();
    model.weights.forEach((w) => w.variable.dispose());
  });

  test('freezing changes the result: the digest sees it', async () => {
    const frozen = frozenMlp({ firstLayerTrainable: false }, { stages: 1 });
    const free = frozenMlp({}, { stages: 1 });
    const data = await loadJobData(free);
    assert.notEqual(weightsDigest((await trainSingleProcess(frozen, data)).weights), weightsDigest((await trainSingleProcess(free, data)).weights));
  });
});

describe('freezing a GPT: embedding (and so the tied head) and the first blocks', () => {
  let folder = '';
  before(async () => {
    await initBackend('cpu');
    folder = await tinyTokenFolder();
  });

  for (const tied of [true, false]) {
    test(`${tied ? 'tied' : 'untied'} head, freeze.layers 3 (embedding, positions, block 0): 2-4 stages, GPipe and 1F1B`, { timeout: 180_000 }, async () => {
      const { spec, data } = await loadTrainingData(tinyGptJob(folder, { tied }, {
        training: { ...tinyGptJob(folder).training, freeze: { layers: 3 } },
        pipeline: { stages: 1, microBatches: 3, schedule: '1F1B', partitionPolicy: 'parameters' },
        data: { dataset: { type: 'tokens', path: folder, sampling: 'random' }, batchSize: 6, validationSplit: 0.1, shuffle: { enabled: true, seed: 4 } },
      }));
      const reference = await trainSingleProcess(spec, data);
      const initial = initialWeights(spec);
      assert.deepEqual(changed(initial, reference.weights, (layer) => layer < 3), [], 'embedding, positions and block 0 keep their weights');
      assert.ok(changed(initial, reference.weights, (layer) => layer >= 3).length > 0, 'the later blocks train');
      const head = reference.weights.filter((w) => w.layerIndex === 6 && !w.tiedCopy);
      assert.equal(head.length, tied ? 0 : 1, 'a tied head has no weight of its own');
      for (const partition of [[3, 4], [2, 2, 3], [2, 1, 2, 2]]) {
        for (const schedule of ['GPipe', '1F1B'] as const) {
          const pipelined = await trainPipelineInProcess({ ...spec, pipeline: { ...spec.pipeline, schedule } }, data, partition);
          const where = `${schedule}, partition ${partition.join('+')}`;
          assert.equal(weightsDigest(pipelined.weights), weightsDigest(reference.weights), where);
          assert.deepEqual(pipelined.losses, reference.losses, where);
          assert.deepEqual(pipelined.valLosses, reference.valLosses, where);
          assert.deepEqual(tiedCopyMismatches(pipelined.weights), [], `${where}: the frozen tied copy equals the embedding`);
          assert.equal(gradientFrames(pipelined.receivedFrames[0]!), 0, `${where}: stage 0 receives no gradient frames`);
          assert.equal(pipelined.receivedFrames[0]!.get(FrameKind.TiedGradient) ?? 0, 0, `${where}: no tied gradient halves travel`);
        }
      }
    });
  }
});
