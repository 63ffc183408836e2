import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffSeconds, classifyExit, decideRestart } from './restart-policy.ts';

test('back-off doubles and is capped', () => {
  assert.deepEqual([0, 1, 2, 3, 10].map(backoffSeconds), [0.5, 1, 2, 4, 15]);
});

test('exit codes and signals are classified', () => {
  assert.equal(classifyExit(2, null), 'invalid-job');
  assert.equal(classifyExit(3, null), 'peer-lost');
  assert.equal(classifyExit(1, null), 'exit');
  assert.equal(classifyExit(null, 'SIGKILL'), 'signal');
});

test('an invalid job is never restarted', () => {
  const d = decideRestart({ stage: 1, reason: 'invalid-job', cause: 'bad file' }, 0, 5);
  assert.equal(d.restart, false);
  assert.match(d.why!, /invalid/);
});

test('restarts until maxRestarts is spent', () => {
  const failure = { stage: 0, reason: 'signal' as const, cause: 'killed by SIGKILL' };
  assert.deepEqual(decideRestart(failure, 0, 2), { restart: true, delaySeconds: 0.5 });
  assert.deepEqual(decideRestart(failure, 1, 2), { restart: true, delaySeconds: 1 });
  const last = decideRestart(failure, 2, 2);
  assert.equal(last.restart, false);
  assert.match(last.why!, /maxRestarts \(2\)/);
});
