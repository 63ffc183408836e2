import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeReports } from './stage-reports.ts';

test('the job is at the slowest stage; loss comes from the last stage', () => {
  const merged = mergeReports([{ stage: 0, step: 7, totalSteps: 10 }, { stage: 1, step: 6 }, { stage: 2, step: 6, loss: 0.5, samplesPerSecond: 100 }], 1, 5);
  assert.equal(merged.step, 6);
  assert.equal(merged.totalSteps, 10);
  assert.equal(merged.loss, 0.5);
  assert.deepEqual(merged.stageSteps, [7, 6, 6]);
});

test('an unreachable stage leaves the step unknown; a checkpoint counts when all stages have it', () => {
  assert.equal(mergeReports([{ stage: 0, step: 3 }, undefined], 0, 0).step, undefined);
  assert.equal(mergeReports([{ stage: 0, checkpointStep: 20 }, { stage: 1, checkpointStep: 10 }], 0, 0).checkpointStep, 10);
});
