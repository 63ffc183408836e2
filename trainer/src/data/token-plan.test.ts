import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../tf/backend.ts';
import { tinyGptJob } from '../../../test/support/gpt-jobs.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import { makeBatches } from './step-batches.ts';
import type { TokenData } from './token-data.ts';
import { makeTokenPlan, validationWindowStarts } from './token-plan.ts';

before(async () => {
  await initBackend('cpu');
});

const job = (sampling: 'random' | 'sequential', steps = 3): PipelineJobSpec => {
  const spec = tinyGptJob('unused', {}, { training: { ...tinyGptJob('unused').training, steps } });
  return { ...spec, data: { ...spec.data, dataset: { type: 'tokens', path: 'unused', sampling } } };
};

test('random windows: seeded per step, inside the split, the same on every stage', () => {
  const spec = job('random');
  const a = makeTokenPlan(spec, 100);
  const b = makeTokenPlan(spec, 100);
  assert.equal(a.window, 8);
  const starts = (plan: typeof a, step: number) => [...plan.windowStarts(step, 0), ...plan.windowStarts(step, 1)];
  assert.deepEqual(starts(a, 2), starts(b, 2));
  assert.notDeepEqual(starts(a, 1), starts(a, 2));
  for (let step = 0; step < 50; step++) assert.ok(starts(a, step).every((s) => s >= 0 && s <= 100 - 8 - 1));
  // Revisiting a step (a resume) gives its windows again.
  const first = starts(a, 1);
  starts(a, 7);
  assert.deepEqual(starts(a, 1), first);
  assert.equal(a.stepsPerEpoch, Math.floor(Math.floor(99 / 8) / 4));
});

test('sequential windows: each non-overlapping window once per epoch', () => {
  const plan = makeTokenPlan(job('sequential'), 8 * 12 + 1);
  assert.equal(plan.stepsPerEpoch, 3);
  const epoch = [0, 1, 2].flatMap((step) => [0, 1].flatMap((mb) => [...plan.windowStarts(step, mb)]));
  assert.deepEqual(epoch.sort((x, y) => x - y), Array.from({ length: 12 }, (_, k) => k * 8));
});

test('targets are the inputs shifted by one token; validation windows are fixed', () => {
  const spec = job('random');
  const tokens = Uint16Array.from({ length: 200 }, (_, i) => i % 50);
  const data: TokenData = { kind: 'tokens', dir: 'unused', meta: undefined as never, train: tokens, val: tokens.subarray(0, 60) };
  const batches = makeBatches(spec, data);
  const x = batches.input(1, 1).arraySync() as number[][];
  const y = batches.targets(1, 1).arraySync() as number[][];
  x.forEach((row, i) => row.forEach((id, t) => assert.equal(y[i]![t], (id + 1) % 50)));
  assert.equal(batches.tokensPerSample, 8);
  assert.equal(batches.evaluation?.samples, 6);
  assert.equal(batches.evaluation?.microBatches, 3);
  assert.deepEqual(validationWindowStarts(spec, 60), validationWindowStarts(spec, 60));
  assert.deepEqual(batches.evaluation?.input(0).arraySync(), batches.evaluation?.input(0).arraySync());
});

test('splits too short for a window are refused with the numbers', () => {
  assert.throws(() => makeTokenPlan(job('random'), 8), /a window of 8 tokens needs at least 9 training tokens .* the train split has 8/);
  assert.throws(() => validationWindowStarts(job('random'), 5), /the val split has 5 tokens, fewer than one window of 8/);
  assert.equal(validationWindowStarts(job('random'), 0).length, 0, 'no val split: no evaluation');
});
