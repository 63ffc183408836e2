import { test } from 'node:test';
import assert from 'node:assert/strict';
import { action, parseActions, type Action } from './action.ts';
import { buildPrograms } from './build.ts';
import { shapes } from '../../../test/support/schedule-helpers.ts';
import { validatePrograms } from './validate.ts';

/** A valid two-stage, two-micro-batch GPipe program to break in the tests below. */
function twoStages(): Action[][] {
  return [
    parseActions('0F0 0SEND_F0 0F1 0SEND_F1 0RECV_B0 0B0 0RECV_B1 0B1 0OPT'),
    parseActions('1RECV_F0 1F0 1RECV_F1 1F1 1B0 1SEND_B0 1B1 1SEND_B1 1OPT'),
  ];
}

function errorsOf(programs: readonly (readonly Action[])[], microBatches = 2): string[] {
  return validatePrograms(programs, microBatches).errors;
}

void test('every built schedule validates, including m < p and p = 1', () => {
  for (const kind of ['GPipe', '1F1B'] as const) {
    for (const [p, m] of shapes(6, 8)) {
      // buildPrograms validates itself; this checks the result object too.
      assert.deepEqual(validatePrograms(buildPrograms(kind, p, m), m), { ok: true, errors: [], issues: [] });
    }
  }
  assert.deepEqual(errorsOf(twoStages()), []);
});

void test('a send without its receive is reported on the sending stage', () => {
  const programs = twoStages();
  programs[1]?.splice(2, 1); // drop 1RECV_F1
  assert.deepEqual(errorsOf(programs), [
    'stage 1, action #2 1F1: forward before receiving its activation 1RECV_F1',
    'stage 0, action #3 0SEND_F1: no matching 1RECV_F1 on stage 1',
  ]);
});

void test('a receive without its send is reported on the receiving stage', () => {
  const programs = twoStages();
  programs[1]?.splice(5, 1); // drop 1SEND_B0
  assert.deepEqual(errorsOf(programs), ['stage 0, action #4 0RECV_B0: no matching 1SEND_B0 on stage 1']);
});

void test('a backward before its forward is rejected', () => {
  const programs = [parseActions('0B0 0F0 0OPT')];
  assert.deepEqual(errorsOf(programs, 1), ['stage 0, action #0 0B0: backward before its forward 0F0']);
});

void test('a missing micro-batch is named', () => {
  const programs = [parseActions('0F0 0F1 0B0 0OPT')];
  assert.deepEqual(errorsOf(programs), ['stage 0, missing 0B1: every stage needs one B per micro-batch 0..1']);
});

void test('a deadlocking order is caught by simulation: both stages receive first', () => {
  const programs = [parseActions('0F0 0RECV_B0 0SEND_F0 0B0 0OPT'), parseActions('1RECV_F0 1F0 1B0 1SEND_B0 1OPT')];
  assert.deepEqual(errorsOf(programs, 1), [
    'stage 0, action #1 0RECV_B0: deadlock: waits for 1SEND_B0, but stage 1 is itself waiting at 1RECV_F0',
    'stage 1, action #0 1RECV_F0: deadlock: waits for 0SEND_F0, but stage 0 is itself waiting at 0RECV_B0',
  ]);
});

void test('duplicates, wrong stage fields and out-of-range micro-batches are rejected', () => {
  assert.deepEqual(errorsOf([parseActions('0F0 0F0 0B0 0OPT')], 1), ['stage 0, action #1 0F0: duplicate: this micro-batch ran already']);
  assert.deepEqual(errorsOf([[action(0, 'F', 0), action(1, 'B', 0), action(0, 'OPT')]], 1), [
    'stage 0, action #1 1B0: belongs to stage 1 but sits in the program of stage 0',
  ]);
  assert.deepEqual(errorsOf([parseActions('0F0 0B0 0F5 0OPT')], 1), ['stage 0, action #2 0F5: micro-batch 5 is not an integer in 0..0']);
  assert.deepEqual(errorsOf([[action(0, 'F', 0), action(0, 'B', 0), { stage: 0, kind: 'OPT', microBatch: 0 }]], 1), [
    'stage 0, action #2 0OPT0: OPT must not name a micro-batch',
  ]);
});

void test('OPT must appear exactly once, as the last action', () => {
  assert.deepEqual(errorsOf([parseActions('0F0 0B0')], 1), ['stage 0, missing 0OPT: every stage ends with one optimizer step']);
  assert.deepEqual(errorsOf([parseActions('0F0 0OPT 0B0')], 1), ['stage 0, action #1 0OPT: OPT must be the last action, after every backward']);
  assert.deepEqual(errorsOf([parseActions('0F0 0B0 0OPT 0OPT')], 1), ['stage 0, action #3 0OPT: second optimizer step in one training step']);
});

void test('communication past either end of the pipeline is rejected', () => {
  assert.deepEqual(errorsOf([parseActions('0RECV_F0 0F0 0SEND_F0 0B0 0OPT')], 1), [
    'stage 0, action #0 0RECV_F0: the first stage has no previous stage to talk to',
    'stage 0, action #2 0SEND_F0: the last stage has no next stage to talk to',
  ]);
});

void test('sends must follow the compute that produces them', () => {
  const programs = twoStages();
  const first = programs[0] ?? [];
  [first[0], first[1]] = [first[1] ?? action(0, 'OPT'), first[0] ?? action(0, 'OPT')]; // 0SEND_F0 before 0F0
  assert.deepEqual(errorsOf(programs), ['stage 0, action #0 0SEND_F0: sends an activation before the forward that produces it 0F0']);
});

void test('bad arguments are reported without looking further', () => {
  assert.deepEqual(errorsOf([]), ['programs: there must be at least one stage']);
  assert.deepEqual(errorsOf(twoStages(), 0), ['programs: microBatches must be an integer >= 1, got 0']);
});
