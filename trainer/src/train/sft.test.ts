// Supervised fine-tuning, trained for real on cpu (a tiny GPT of test/support/gpt-jobs.ts): only
// completion tokens count in the loss, normalized by the completion tokens of the whole batch; and a
// pipeline computes bit for bit what single-process training computes.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { loadTrainingData } from '../data/load.ts';
import type { SftData } from '../data/sft-data.ts';
import { makeBatches } from '../data/step-batches.ts';
import { modelLayerCount } from '../model/expand.ts';
import { initBackend } from '../tf/backend.ts';
import { sumDemonstrations, tinySftJob, writeDemonstrations } from '../../../test/support/sft-jobs.ts';
import { weightsDigest } from './digest.ts';
import { buildStage } from './job-model.ts';
import { tokenCrossentropy } from './loss.ts';
import { trainPipelineInProcess } from './pipeline-in-process.ts';
import { trainSingleProcess } from './reference.ts';

describe('supervised fine-tuning (cpu)', () => {
  let file = '';
  before(async () => {
    await initBackend('cpu');
    file = await writeDemonstrations(sumDemonstrations(30));
  });

  /** The job's data with `edit` applied to a copy of its training samples. */
  const loadEdited = async (edit: (train: SftData['train']) => void = () => {}, spec: Record<string, unknown> = {}) => {
    const loaded = await loadTrainingData(tinySftJob(file, spec), '/');
    const data = loaded.data as SftData;
    const train = { ...data.train, targets: Int32Array.from(data.train.targets), mask: Uint8Array.from(data.train.mask) };
    edit(train);
    return { spec: loaded.spec, data: { ...data, train } };
  };

  test("changing prompt (masked) targets changes nothing; changing a completion token's target changes the loss", async () => {
    const base = await loadEdited();
    const reference = await trainSingleProcess(base.spec, base.data);
    const { window, mask, targets } = base.data.train;
    const vocab = base.data.vocabSize;
    let changed = 0;
    const maskedChanged = await loadEdited((train) => {
      for (let i = 0; i < train.targets.length; i++) {
        if (mask[i] === 0) {
          train.targets[i] = (targets[i]! + 1 + (i % 3)) % vocab;
          changed++;
        }
      }
    });
    assert.ok(changed > 100, `${changed} masked targets changed`);
    const masked = await trainSingleProcess(maskedChanged.spec, maskedChanged.data);
    assert.deepEqual(masked.losses, reference.losses, 'the same losses, bit for bit');
    assert.equal(weightsDigest(masked.weights), weightsDigest(reference.weights), 'the same weights, bit for bit');

    const first = mask.indexOf(1);
    assert.ok(first >= 0 && first < window * base.data.train.count);
    // Every sample's first completion target, so the change is in step 0's batch whatever the order.
    const completionChanged = await loadEdited((train) => {
      for (let s = 0; s < train.count; s++) {
        const j = train.mask.subarray(s * window, (s + 1) * window).indexOf(1);
        train.targets[s * window + j] = (train.targets[s * window + j]! + 1) % vocab;
      }
    });
    const completion = await trainSingleProcess(completionChanged.spec, completionChanged.data, 1);
    assert.notEqual(completion.losses[0], reference.losses[0]);
  });

  test('the loss is the mean over the completion tokens of the whole batch, not of each micro-batch', { timeout: 60_000 }, async () => {
    const { spec, data } = await loadEdited(() => {}, { training: { steps: 1, optimizer: { type: 'sgd', learningRate: 0.1 }, backend: 'cpu' } });
    const batches = makeBatches(spec, data);
    const { model, optimizer } = buildStage(spec, 0, modelLayerCount(spec.model.layers));
    // By hand: every position's −log p(target) from the untrained model (training mode, the step's dropout), summed where the mask is 1.
    const perMicroBatch: { sum: number; tokens: number }[] = [];
    for (let mb = 0; mb < batches.plan.microBatches; mb++) {
      const x = batches.input(0, mb);
      const packed = batches.targets(0, mb);
      const [losses, mask] = tf.tidy(() => {
        const logits = model.layers.reduce((h, layer) => layer.apply(h, { training: true, seed: spec.training.seed, step: 0, microBatch: mb }), x);
        const [ids, m] = tf.unstack(packed, 1);
        return [tokenCrossentropy(logits, ids!).dataSync(), m!.reshape([-1]).dataSync()];
      });
      let sum = 0;
      let tokens = 0;
      losses.forEach((loss, i) => {
        if (mask[i] === 1) {
          sum += loss;
          tokens++;
        }
      });
      perMicroBatch.push({ sum, tokens });
      tf.dispose([x, packed]);
    }
    optimizer.dispose();
    model.weights.forEach((w) => w.variable.dispose());
    const tokens = perMicroBatch.reduce((a, m) => a + m.tokens, 0);
    assert.notEqual(perMicroBatch[0]!.tokens, perMicroBatch[1]!.tokens, 'micro-batches with different completion counts: the two normalizations differ');
    assert.equal(batches.completionScale!(0), 1 / tokens);
    const batchMean = perMicroBatch.reduce((a, m) => a + m.sum, 0) / tokens;
    const meanOfMicroBatchMeans = perMicroBatch.reduce((a, m) => a + m.sum / m.tokens, 0) / perMicroBatch.length;
    const trained = await trainSingleProcess(spec, data);
    assert.ok(Math.abs(trained.losses[0]! - batchMean) < 1e-5, `loss ${trained.losses[0]} = Σ completion losses / ${tokens} = ${batchMean}`);
    assert.ok(Math.abs(trained.losses[0]! - meanOfMicroBatchMeans) > 1e-3, `and not the mean of micro-batch means ${meanOfMicroBatchMeans}`);
  });

  test('a pipeline equals single-process training bit for bit (2 and 3 stages, GPipe and 1F1B)', { timeout: 180_000 }, async () => {
    const { spec, data } = await loadEdited();
    const before = tf.memory().numTensors;
    const reference = await trainSingleProcess(spec, data);
    assert.equal(reference.valLosses.size, 2);
    for (const partition of [[3, 4], [2, 2, 3]]) {
      for (const schedule of ['GPipe', '1F1B'] as const) {
        const pipelined = await trainPipelineInProcess({ ...spec, pipeline: { ...spec.pipeline, schedule } }, data, partition);
        const where = `${schedule}, partition ${partition.join('+')}`;
        assert.equal(weightsDigest(pipelined.weights), weightsDigest(reference.weights), where);
        assert.deepEqual(pipelined.losses, reference.losses, where);
        assert.deepEqual(pipelined.valLosses, reference.valLosses, where);
      }
    }
    assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
    assert.ok(reference.losses.every(Number.isFinite) && [...reference.valLosses.values()].every(Number.isFinite));
  });

  test('each epoch is shuffled (seeded): the step plan is a function of the step, as a resumed run needs', async () => {
    const { spec, data } = await loadEdited(() => {}, { training: { epochs: 2, optimizer: { type: 'sgd', learningRate: 0.1 }, backend: 'cpu' } });
    const batches = makeBatches(spec, data);
    const again = makeBatches(spec, data);
    const { stepsPerEpoch } = batches.plan;
    assert.equal(batches.plan.totalSteps, 2 * stepsPerEpoch);
    const ids = (b: typeof batches, step: number) => tf.tidy(() => Array.from(b.input(step, 0).dataSync()));
    assert.deepEqual(batches.plan.position(stepsPerEpoch + 1), { epoch: 1, offset: 1 });
    // Read out of order on the second plan: each step's batch does not depend on the steps before it.
    assert.deepEqual(ids(again, stepsPerEpoch), ids(batches, stepsPerEpoch));
    assert.deepEqual(ids(again, 0), ids(batches, 0));
    assert.notDeepEqual(ids(batches, 0), ids(batches, stepsPerEpoch), 'another order in the second epoch');
  });
});
