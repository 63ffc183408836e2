// The freeze bench measures what it claims: with the first stage frozen, that stage spends no time
// in backward, and the stage after it still does. (Timings themselves are not asserted: too noisy.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PipelineJob } from '../../trainer/src/api/schema.ts';
import { tinyMlpJob } from '../support/tiny-jobs.ts';
import { formatFreezeBench, runFreezeRun } from './freeze-bench.ts';

function job(): PipelineJob {
  const base = tinyMlpJob();
  const spec = { ...base, pipeline: { ...base.pipeline, stages: undefined, partition: [2, 4] }, training: { ...base.training, steps: 4 } } as PipelineJob['spec'];
  return { apiVersion: 'pipetrain.io/v1alpha1', kind: 'PipelineJob', metadata: { name: 'freeze-bench' }, spec } as PipelineJob;
}

void test('a frozen first stage spends no time in backward; the table shows both runs', { timeout: 120_000 }, async () => {
  const trains = await runFreezeRun(job(), false, 1);
  const frozen = await runFreezeRun(job(), true, 1);
  assert.ok(trains.backwardMs[0]! > 0, 'a training first stage runs backward');
  assert.equal(frozen.backwardMs[0], 0, 'a frozen first stage runs none');
  assert.ok(frozen.backwardMs[1]! > 0, 'the second stage still trains');
  const table = formatFreezeBench([trains, frozen]);
  assert.match(table, /\| trains \|/);
  assert.match(table, /\| frozen \|/);
  assert.match(table, /Frozen first stage: [\d.]+ ms\/step against [\d.]+ ms\/step, -?\d+% less \(per round: -?\d+%\)/);
});
