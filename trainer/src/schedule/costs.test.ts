import { test } from 'node:test';
import assert from 'node:assert/strict';
import { action } from './action.ts';
import { durationOf, resolveCosts } from './costs.ts';
import { ScheduleError } from './errors.ts';

void test('resolveCosts spreads scalars over stages and defaults send and optimizer to 0', () => {
  assert.deepEqual(resolveCosts({ forward: 1, backward: [2, 3] }, 2), {
    forward: [1, 1],
    backward: [2, 3],
    optimizer: [0, 0],
    send: 0,
  });
});

void test('durationOf charges compute and OPT, not communication', () => {
  const costs = resolveCosts({ forward: [1, 4], backward: 2, optimizer: 0.5, send: 9 }, 2);
  assert.equal(durationOf(action(1, 'F', 0), 1, costs), 4);
  assert.equal(durationOf(action(0, 'B', 0), 0, costs), 2);
  assert.equal(durationOf(action(0, 'OPT'), 0, costs), 0.5);
  assert.equal(durationOf(action(0, 'SEND_F', 0), 0, costs), 0);
  assert.equal(durationOf(action(1, 'RECV_F', 0), 1, costs), 0);
});

void test('resolveCosts names the bad field', () => {
  assert.throws(() => resolveCosts({ forward: [1], backward: 1 }, 2), /costs.forward has 1 entries but there are 2 stages/);
  assert.throws(() => resolveCosts({ forward: 1, backward: [1, -1] }, 2), /costs.backward\[1\] must be a finite number >= 0, got -1/);
  assert.throws(() => resolveCosts({ forward: 1, backward: 1, send: Number.POSITIVE_INFINITY }, 2), ScheduleError);
  assert.throws(() => resolveCosts({ forward: Number.NaN, backward: 1 }, 2), /costs.forward must be/);
});
