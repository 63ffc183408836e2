// Exactness for language models: a small GPT trained in a pipeline (1-4 stages, both schedules,
// blocks split inside a `repeat`, tied and untied head) gives bit for bit the weights, the batch
// losses and the validation losses of single-process training over the same micro-batches (cpu).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { loadTrainingData } from '../data/load.ts';
import { initBackend } from '../tf/backend.ts';
import { tinyGptJob, tinyTokenFolder } from '../../../test/support/gpt-jobs.ts';
import { tiedCopyMismatches, weightsDigest } from './digest.ts';
import { trainPipelineInProcess } from './pipeline-in-process.ts';
import { trainSingleProcess } from './reference.ts';

// 7 layers: embedding, positions, 3 blocks of one repeat, LayerNorm, head. Every partition with
// more than one stage cuts the repeat.
const PARTITIONS = [[7], [3, 4], [2, 2, 3], [2, 1, 2, 2]];

describe('a GPT in a pipeline equals single-process training (cpu, bit for bit)', () => {
  let folder = '';
  before(async () => {
    await initBackend('cpu');
    folder = await tinyTokenFolder();
  });

  const load = (tied: boolean) => loadTrainingData(tinyGptJob(folder, { tied }, { pipeline: { stages: 1, microBatches: 3, schedule: '1F1B', partitionPolicy: 'parameters' }, data: { dataset: { type: 'tokens', path: folder, sampling: 'random' }, batchSize: 6, validationSplit: 0.1, shuffle: { enabled: true, seed: 4 } } }));

  for (const tied of [true, false]) {
    test(`${tied ? 'tied' : 'untied'} head: 1 to 4 stages, GPipe and 1F1B`, { timeout: 180_000 }, async () => {
      const { spec, data } = await load(tied);
      const before = tf.memory().numTensors;
      const reference = await trainSingleProcess(spec, data);
      assert.equal(reference.valLosses.size, 2, 'evaluated after step 2 (evalEverySteps) and after the last');
      for (const partition of PARTITIONS) {
        for (const schedule of ['GPipe', '1F1B'] as const) {
          const pipelined = await trainPipelineInProcess({ ...spec, pipeline: { ...spec.pipeline, schedule } }, data, partition);
          const where = `${schedule}, partition ${partition.join('+')}`;
          assert.equal(weightsDigest(pipelined.weights), weightsDigest(reference.weights), where);
          assert.deepEqual(pipelined.losses, reference.losses, where);
          assert.deepEqual(pipelined.valLosses, reference.valLosses, where);
          assert.equal(pipelined.weights.filter((w) => w.tiedCopy).length, tied ? 1 : 0, where);
          assert.deepEqual(tiedCopyMismatches(pipelined.weights), [], `${where}: the tied copy is bit-identical to the embedding`);
        }
      }
      assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
      assert.ok(reference.losses.every(Number.isFinite) && [...reference.valLosses.values()].every(Number.isFinite));
    });
  }

  test('the digest sees the tie and the data order', async () => {
    const tied = await load(true);
    const untied = await load(false);
    const digest = async (loaded: Awaited<ReturnType<typeof load>>) => weightsDigest((await trainSingleProcess(loaded.spec, loaded.data, 2)).weights);
    const tiedDigest = await digest(tied);
    assert.notEqual(tiedDigest, await digest(untied));
    const reseeded = { ...tied, spec: { ...tied.spec, data: { ...tied.spec.data, shuffle: { enabled: true, seed: 5 } } } };
    assert.notEqual(tiedDigest, await digest(reseeded), 'other random windows give other weights');
  });
});
