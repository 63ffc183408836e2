import assert from 'node:assert/strict';
import { test } from 'node:test';
import { phaseOf, setCondition } from './conditions.ts';

test('lastTransitionTime changes only when status changes', () => {
  let conditions = setCondition([], { type: 'Running', status: 'False', reason: 'StagesStarting', message: '0/3' }, 't1', 1);
  conditions = setCondition(conditions, { type: 'Running', status: 'False', reason: 'StagesStarting', message: '2/3' }, 't2', 1);
  assert.equal(conditions[0]?.lastTransitionTime, 't1');
  assert.equal(conditions[0]?.message, '2/3');
  conditions = setCondition(conditions, { type: 'Running', status: 'True', reason: 'StagesRunning', message: 'all' }, 't3', 2);
  assert.equal(conditions[0]?.lastTransitionTime, 't3');
  assert.equal(conditions[0]?.observedGeneration, 2);
  assert.equal(conditions.length, 1);
});

test('phase: Failed > Succeeded > Suspended > Restarting > Running > Pending', () => {
  const c = (type: 'Failed' | 'Succeeded' | 'Suspended' | 'Running' | 'Restarting', status: 'True' | 'False') => ({ type, status, reason: 'r', message: '', lastTransitionTime: 't' });
  assert.equal(phaseOf([]), 'Pending');
  assert.equal(phaseOf([c('Running', 'True')]), 'Running');
  assert.equal(phaseOf([c('Running', 'True'), c('Restarting', 'True')]), 'Restarting');
  assert.equal(phaseOf([c('Restarting', 'True'), c('Suspended', 'True')]), 'Suspended');
  assert.equal(phaseOf([c('Suspended', 'True'), c('Succeeded', 'True')]), 'Succeeded');
  assert.equal(phaseOf([c('Succeeded', 'True'), c('Failed', 'True')]), 'Failed');
  assert.equal(phaseOf([c('Restarting', 'True'), c('Failed', 'True')]), 'Failed');
});
