import { test } from 'node:test';
import assert from 'node:assert/strict';
import { action, formatAction, parseAction, parseActions } from './action.ts';
import { ScheduleError } from './errors.ts';

// node:test's test() returns a promise that the runner tracks; `void` tells the linter so.

void test('formatAction writes stage, kind and micro-batch without separators', () => {
  assert.equal(formatAction(action(2, 'F', 0)), '2F0');
  assert.equal(formatAction(action(1, 'B', 3)), '1B3');
  assert.equal(formatAction(action(0, 'SEND_F', 2)), '0SEND_F2');
  assert.equal(formatAction(action(1, 'RECV_B', 0)), '1RECV_B0');
  assert.equal(formatAction(action(3, 'OPT')), '3OPT');
});

void test('action() drops a micro-batch given to OPT', () => {
  assert.deepEqual(action(3, 'OPT', 7), { stage: 3, kind: 'OPT', microBatch: null });
});

void test('parseAction is the inverse of formatAction', () => {
  for (const text of ['2F0', '1B3', '0SEND_F2', '0RECV_F12', '10SEND_B0', '1RECV_B0', '3OPT']) {
    assert.equal(formatAction(parseAction(text)), text);
  }
  assert.deepEqual(parseAction('12B34'), { stage: 12, kind: 'B', microBatch: 34 });
});

void test('parseAction rejects malformed text with a ScheduleError naming it', () => {
  for (const text of ['', 'F0', '2F', '2X0', '3OPT1', '02F0', '2F01', ' 2F0', '2f0', '-1F0', '2SEND0']) {
    assert.throws(() => parseAction(text), ScheduleError, text);
  }
  assert.throws(() => parseAction('2Q0'), /Cannot parse action "2Q0"/);
});

void test('parseActions reads a whitespace-separated program', () => {
  assert.deepEqual(parseActions(' 1RECV_F0  1F0\n1OPT '), [action(1, 'RECV_F', 0), action(1, 'F', 0), action(1, 'OPT')]);
  assert.deepEqual(parseActions(''), []);
});
