import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAction, parseActions } from './action.ts';
import { buildPrograms, idealBubbleFraction } from './build.ts';
import { UNIT_COSTS } from './costs.ts';
import { DeadlockError } from './errors.ts';
import { simulate } from './simulate.ts';
import { range, shapes } from '../../../test/support/schedule-helpers.ts';

void test('overall bubble equals (p-1)/(m+p-1) for both schedules with uniform costs', () => {
  for (const kind of ['GPipe', '1F1B'] as const) {
    for (const [p, m] of shapes(8, 16)) {
      const result = simulate(buildPrograms(kind, p, m), UNIT_COSTS);
      assert.equal(result.overallBubbleFraction, idealBubbleFraction(p, m), `${kind} p=${p} m=${m}`);
      assert.equal(result.makespan, 2 * (m + p - 1));
    }
  }
});

void test('the formula holds for unequal but uniform forward and backward costs', () => {
  for (const kind of ['GPipe', '1F1B'] as const) {
    for (const [p, m] of shapes(5, 9)) {
      const result = simulate(buildPrograms(kind, p, m), { forward: 1, backward: 2 });
      assert.equal(result.makespan, 3 * (m + p - 1), `${kind} p=${p} m=${m}`);
      assert.equal(result.overallBubbleFraction, idealBubbleFraction(p, m));
    }
  }
});

void test('1F1B p=3 m=4: makespan 12, every stage idle 4 of 12 slots', () => {
  const result = simulate(buildPrograms('1F1B', 3, 4), UNIT_COSTS);
  assert.equal(result.makespan, 12);
  assert.deepEqual(result.busy, [8, 8, 8]);
  assert.deepEqual(result.idle, [4, 4, 4]);
  assert.deepEqual(result.bubbleFraction, [1 / 3, 1 / 3, 1 / 3]);
});

void test('peak in-flight micro-batches: m for GPipe, min(p-s, m) for 1F1B', () => {
  for (const [p, m] of shapes(6, 8)) {
    assert.deepEqual(simulate(buildPrograms('GPipe', p, m), UNIT_COSTS).peakInFlight, range(p).map(() => m));
    const expected = range(p).map((s) => Math.min(p - s, m));
    assert.deepEqual(simulate(buildPrograms('1F1B', p, m), UNIT_COSTS).peakInFlight, expected, `p=${p} m=${m}`);
  }
});

void test('send latency delays the receiver and shows as the RECV wait in the timeline', () => {
  const programs = buildPrograms('GPipe', 2, 1);
  const result = simulate(programs, { forward: 1, backward: 2, send: 0.5, optimizer: [0.25, 0] });
  // 0F0 [0,1] -> message at 1.5 -> 1F0 [1.5,2.5] 1B0 [2.5,4.5] -> message at 5 -> 0B0 [5,7] 0OPT [7,7.25]
  assert.equal(result.makespan, 7.25);
  assert.deepEqual(result.busy, [3.25, 3]);
  const at = (text: string) => result.timeline.find((e) => formatAction(e.action) === text);
  assert.deepEqual(at('1RECV_F0'), { stage: 1, action: programs[1]?.[0], start: 0, end: 1.5 });
  assert.deepEqual([at('1F0')?.start, at('0B0')?.start, at('0OPT')?.end], [1.5, 5, 7.25]);
});

void test('per-stage costs: a slow stage paces the whole pipeline', () => {
  const result = simulate(buildPrograms('GPipe', 2, 2), { forward: [1, 3], backward: [1, 3] });
  assert.equal(result.makespan, 1 + 3 + 3 + 3 + 3 + 1);
  assert.deepEqual(result.busy, [4, 12]);
});

void test('the timeline is sorted by start time and holds every action once', () => {
  const programs = buildPrograms('1F1B', 3, 3);
  const { timeline } = simulate(programs, UNIT_COSTS);
  assert.equal(timeline.length, programs.flat().length);
  assert.ok(timeline.every((e, i) => i === 0 || (timeline[i - 1]?.start ?? 0) <= e.start));
});

void test('simulate throws a DeadlockError naming each blocked stage, with the program grid', () => {
  // Both stages receive before they send: stage 0 waits for a gradient, stage 1 for an activation.
  const programs = [parseActions('0F0 0RECV_B0 0SEND_F0 0B0 0OPT'), parseActions('1RECV_F0 1F0 1B0 1SEND_B0 1OPT')];
  assert.throws(
    () => simulate(programs, UNIT_COSTS),
    (error: unknown) => {
      assert.ok(error instanceof DeadlockError);
      assert.deepEqual(error.blocked.map((b) => [b.stage, b.index]), [[0, 1], [1, 0]]);
      assert.match(error.message, /stage 0, action #1 0RECV_B0: waits for 1SEND_B0, but stage 1 is itself waiting at 1RECV_F0/);
      assert.match(error.grid ?? '', /rank0\s+0F0 \[0RECV_B0\]/);
      return true;
    },
  );
});

void test('simulate of a receive nobody sends reports the missing sender', () => {
  const programs = [parseActions('0F0 0B0 0OPT'), parseActions('1RECV_F0 1F0 1B0 1OPT')];
  assert.throws(() => simulate(programs, UNIT_COSTS), /waits for 0SEND_F0, but stage 0 never sends it/);
});
