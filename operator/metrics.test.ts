import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOperatorMetrics } from './metrics.ts';

const job = { namespace: 'ml', job: 'mnist' };

test('a restart counts for the operator and for the job; detection and training-again times are per job', async () => {
  const metrics = createOperatorMetrics({ collectDefault: false });
  metrics.observed(job, { restartReason: 'NodeLeaseExpired', lostSteps: 7, detectionSeconds: 5.5 });
  metrics.observed(job, { recoverySeconds: 3, trainingAgainSeconds: 9 });
  const text = await metrics.registry.metrics();
  assert.match(text, /^pipetrain_operator_restarts_total\{reason="NodeLeaseExpired"\} 1$/m);
  assert.match(text, /^pipetrain_restarts_total\{namespace="ml",job="mnist",reason="NodeLeaseExpired"\} 1$/m);
  assert.match(text, /^pipetrain_lost_steps_total\{namespace="ml",job="mnist"\} 7$/m);
  assert.match(text, /^pipetrain_failure_detection_seconds_sum\{namespace="ml",job="mnist"\} 5.5$/m);
  assert.match(text, /^pipetrain_recovery_duration_seconds_sum\{namespace="ml",job="mnist"\} 9$/m);
  assert.match(text, /^pipetrain_operator_recovery_seconds_sum 3$/m);
});

test('a deleted job takes its series along; other jobs keep theirs', async () => {
  const metrics = createOperatorMetrics({ collectDefault: false });
  const other = { namespace: 'ml', job: 'other' };
  for (const j of [job, other]) metrics.observed(j, { restartReason: 'StageFailed', lostSteps: 1, detectionSeconds: 1, trainingAgainSeconds: 2 });
  metrics.observed(job, { restartReason: 'PeerLost' });
  metrics.forgetJob(job);
  const text = await metrics.registry.metrics();
  assert.doesNotMatch(text, /job="mnist"/);
  assert.match(text, /^pipetrain_restarts_total\{namespace="ml",job="other",reason="StageFailed"\} 1$/m);
  assert.match(text, /^pipetrain_recovery_duration_seconds_count\{namespace="ml",job="other"\} 1$/m);
});

test("a job's series start at 0 on its first reconcile, so its first restart shows as an increase", async () => {
  const metrics = createOperatorMetrics({ collectDefault: false });
  metrics.observed(job, {});
  const text = await metrics.registry.metrics();
  for (const reason of ['StageFailed', 'PeerLost', 'NodeLeaseExpired']) assert.match(text, new RegExp(`^pipetrain_restarts_total\\{namespace="ml",job="mnist",reason="${reason}"\\} 0$`, 'm'));
  assert.match(text, /^pipetrain_lost_steps_total\{namespace="ml",job="mnist"\} 0$/m);
  assert.match(text, /^pipetrain_failure_detection_seconds_count\{namespace="ml",job="mnist"\} 0$/m);
  assert.match(text, /^pipetrain_recovery_duration_seconds_count\{namespace="ml",job="mnist"\} 0$/m);
});

test('a job seen (by any replica, before it reconciles) exports its series at 0', async () => {
  const metrics = createOperatorMetrics({ collectDefault: false });
  metrics.trackJob(job);
  const text = await metrics.registry.metrics();
  assert.match(text, /^pipetrain_restarts_total\{namespace="ml",job="mnist",reason="StageFailed"\} 0$/m);
  metrics.observed(job, { restartReason: 'StageFailed' });
  assert.match(await metrics.registry.metrics(), /^pipetrain_restarts_total\{namespace="ml",job="mnist",reason="StageFailed"\} 1$/m);
});
