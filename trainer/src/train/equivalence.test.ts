// Exactness: a pipeline computes bit for bit what single-process training computes over the same
// micro-batches (cpu backend), for every stage count, both schedules and several micro-batch counts.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../tf/backend.ts';
import { loadJobData } from '../data/load.ts';
import { rangesFromSizes } from '../model/partition.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import { weightsDigest } from './digest.ts';
import { trainPipelineInProcess } from './pipeline-in-process.ts';
import { trainSingleProcess } from './reference.ts';
import { tinyConvJob, tinyMlpJob } from '../../../test/support/tiny-jobs.ts';

/** Spreads `layers` over `stages` as evenly as possible. */
function evenPartition(layers: number, stages: number): number[] {
  return Array.from({ length: stages }, (_, i) => Math.floor((layers * (i + 1)) / stages) - Math.floor((layers * i) / stages));
}

async function digests(spec: PipelineJobSpec, partition: number[]) {
  const data = await loadJobData(spec);
  const reference = await trainSingleProcess(spec, data);
  const pipelined = await trainPipelineInProcess(spec, data, partition);
  return { reference: weightsDigest(reference.weights), pipelined: weightsDigest(pipelined.weights), reference2: reference, pipelined2: pipelined };
}

describe('pipeline equals single-process training (cpu, bit for bit)', () => {
  before(async () => {
    await initBackend('cpu');
  });

  for (const stages of [1, 2, 3, 4]) {
    for (const schedule of ['GPipe', '1F1B'] as const) {
      for (const microBatches of [...new Set([1, stages, 2 * stages + 1])]) {
        test(`${stages} stages, ${schedule}, ${microBatches} micro-batches`, async () => {
          const spec = tinyMlpJob({
            pipeline: { stages, microBatches, schedule, partitionPolicy: 'parameters' },
            data: { ...tinyMlpJob().data, batchSize: microBatches * 4 },
          });
          const before = tf.memory().numTensors;
          const { reference, pipelined, reference2, pipelined2 } = await digests(spec, evenPartition(6, stages));
          assert.equal(pipelined, reference);
          assert.deepEqual(pipelined2.losses, reference2.losses);
          assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
        });
      }
    }
  }

  test('convolutional model, momentum, categorical crossentropy', async () => {
    const spec = tinyConvJob({ pipeline: { stages: 3, microBatches: 4, schedule: '1F1B', partitionPolicy: 'parameters' } });
    const { reference, pipelined } = await digests(spec, [2, 2, 1]);
    assert.equal(pipelined, reference);
  });

  test('sgd with warm-up and cosine decay, uneven partition', async () => {
    const base = tinyMlpJob();
    const spec = tinyMlpJob({
      training: { ...base.training, steps: 4, optimizer: { ...base.training.optimizer, type: 'sgd' }, learningRateSchedule: { type: 'warmupCosine', warmupSteps: 2, minLearningRate: 0.001 } },
      pipeline: { stages: 2, microBatches: 4, schedule: 'GPipe', partitionPolicy: 'parameters' },
    });
    const { reference, pipelined } = await digests(spec, [5, 1]);
    assert.equal(pipelined, reference);
  });

  test('the digest does see a different result (a different seed changes it)', async () => {
    const spec = tinyMlpJob();
    const other = tinyMlpJob({ training: { ...spec.training, seed: 2 } });
    const data = await loadJobData(spec);
    const a = weightsDigest((await trainSingleProcess(spec, data)).weights);
    const b = weightsDigest((await trainSingleProcess(other, data)).weights);
    assert.notEqual(a, b);
  });

  test('partitions cover the model', () => {
    assert.deepEqual(rangesFromSizes(evenPartition(6, 4)).at(-1), { from: 4, to: 6 });
  });
});
