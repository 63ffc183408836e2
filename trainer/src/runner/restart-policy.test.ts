import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyExit, decideRestart } from './restart-policy.ts';

test('exit codes and signals are classified under the reason names of the operator', () => {
  assert.equal(classifyExit(2, null), 'permanent');
  assert.equal(classifyExit(127, null), 'permanent');
  assert.equal(classifyExit(3, null), 'PeerLost');
  assert.equal(classifyExit(1, null), 'StageFailed');
  assert.equal(classifyExit(null, 'SIGKILL'), 'StageFailed');
});

test('an invalid job is never restarted', () => {
  const d = decideRestart({ stage: 1, reason: 'permanent', cause: 'bad file', exitCode: 2 }, 0, 5);
  assert.equal(d.restart, false);
  assert.match(d.why!, /invalid/);
});

test('restarts until maxRestarts is spent, with the back-off of the contract', () => {
  const failure = { stage: 0, reason: 'StageFailed' as const, cause: 'killed by SIGKILL' };
  assert.deepEqual(decideRestart(failure, 0, 2), { restart: true, delaySeconds: 1 });
  assert.deepEqual(decideRestart(failure, 1, 2), { restart: true, delaySeconds: 2 });
  const last = decideRestart(failure, 2, 2);
  assert.equal(last.restart, false);
  assert.match(last.why!, /maxRestarts \(2\)/);
});
