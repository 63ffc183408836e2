import assert from 'node:assert/strict';
import { test } from 'node:test';
import { terminationReason } from './termination-reason.ts';

const info = (message: string) => JSON.stringify({ time: '2026-12-03T11:57:04.793Z', level: 'info', message, job: 'j', stage: 0, backend: 'cpu', skipped: [] });

test('a stage\'s JSON log tail: the newest error line\'s message and reason, even when info lines follow', () => {
  const failed = JSON.stringify({ time: 't', level: 'error', message: 'Stage failed', job: 'j', stage: 0, error: 'spec.model.from.checkpoint.path: /source/absent holds no committed checkpoint', exitCode: 2 });
  const text = [info('Backend: cpu'), info('Started stage'), JSON.stringify({ level: 'error', message: 'older' }), failed, info('Serving final status')].join('\n');
  assert.equal(terminationReason(text), 'Stage failed: spec.model.from.checkpoint.path: /source/absent holds no committed checkpoint');
});

test('plain text (or no error line): the last 3 lines, joined; nothing for an empty message', () => {
  assert.equal(terminationReason('a\nb\nc\nd\n'), 'b | c | d');
  assert.equal(terminationReason([info('x'), '{not json', info('y')].join('\n'))?.startsWith(info('x').slice(0, 20)), true);
  assert.equal(terminationReason('  \n'), undefined);
  assert.equal(terminationReason(undefined), undefined);
  assert.equal(terminationReason('x'.repeat(1000))?.length, 300);
});
