import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPermanentExit, restartDelaySeconds } from './restart-policy.ts';

test('back-off doubles from 1 s and is capped at 60 s', () => {
  assert.deepEqual([1, 2, 3, 4, 7, 50].map(restartDelaySeconds), [1, 2, 4, 8, 60, 60]);
});

test('exit codes 2, 126 and 127 are permanent; others are retried', () => {
  assert.deepEqual([0, 1, 2, 3, 126, 127, 137, 143].filter(isPermanentExit), [2, 126, 127]);
});
