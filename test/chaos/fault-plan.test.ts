import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAULT_KINDS, countKinds, planFaults } from './fault-plan.ts';

const options = { faults: 20, seed: 7, totalSteps: 400, firstStep: 20, lastGap: 20 };

test('the same seed gives the same plan; another seed another one', () => {
  assert.deepEqual(planFaults(options), planFaults(options));
  assert.notDeepEqual(planFaults(options), planFaults({ ...options, seed: 8 }));
});

test('faults land at distinct ascending steps inside the window', () => {
  const plan = planFaults(options);
  assert.equal(plan.length, 20);
  for (let i = 1; i < plan.length; i++) assert.ok(plan[i]!.atStep > plan[i - 1]!.atStep);
  assert.ok(plan.every((f) => f.atStep >= 20 && f.atStep < 380));
  assert.ok(plan.every((f) => f.durationMs >= 2000 && f.durationMs <= 5000));
});

test('every kind occurs before any repeats', () => {
  const plan = planFaults({ ...options, faults: FAULT_KINDS.length });
  assert.deepEqual(Object.keys(countKinds(plan)).sort(), [...FAULT_KINDS].sort());
  const five = planFaults({ ...options, faults: 5, kinds: ['stage-kill', 'etcd-restart'] });
  const counts = countKinds(five);
  assert.equal((counts['stage-kill'] ?? 0) + (counts['etcd-restart'] ?? 0), 5);
  assert.ok((counts['stage-kill'] ?? 0) >= 2 && (counts['etcd-restart'] ?? 0) >= 2);
});

test('impossible plans are refused with the reason', () => {
  assert.throws(() => planFaults({ ...options, faults: -1 }), /whole number/);
  assert.throws(() => planFaults({ ...options, faults: 500 }), /do not fit/);
  assert.throws(() => planFaults({ ...options, kinds: [] }), /no fault kinds/);
  assert.deepEqual(planFaults({ ...options, faults: 0 }), []);
});
