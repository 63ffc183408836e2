// Exactness on the wasm backend (with our matmul fix installed): pipeline vs single process.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../tf/backend.ts';
import { loadJobData } from '../data/load.ts';
import { weightsDigest } from './digest.ts';
import { trainPipelineInProcess } from './pipeline-in-process.ts';
import { trainSingleProcess } from './reference.ts';
import { tinyConvJob, tinyMlpJob } from '../../../test/support/tiny-jobs.ts';

before(async () => {
  assert.equal((await initBackend('wasm')).name, 'wasm');
});

test('wasm: 3-stage 1F1B MLP equals single-process training bit for bit', async () => {
  const spec = tinyMlpJob({ training: { ...tinyMlpJob().training, backend: 'wasm', steps: 4 }, pipeline: { stages: 3, microBatches: 4, schedule: '1F1B', partitionPolicy: 'parameters' } });
  const data = await loadJobData(spec);
  const reference = await trainSingleProcess(spec, data);
  const pipelined = await trainPipelineInProcess(spec, data, [2, 2, 2]);
  assert.equal(weightsDigest(pipelined.weights), weightsDigest(reference.weights));
});

test('wasm: convolutional GPipe equals single-process training bit for bit', async () => {
  const spec = tinyConvJob({ training: { ...tinyConvJob().training, backend: 'wasm' }, pipeline: { stages: 2, microBatches: 2, schedule: 'GPipe', partitionPolicy: 'parameters' } });
  const data = await loadJobData(spec);
  const reference = await trainSingleProcess(spec, data);
  const pipelined = await trainPipelineInProcess(spec, data, [3, 2]);
  assert.equal(weightsDigest(pipelined.weights), weightsDigest(reference.weights));
});
