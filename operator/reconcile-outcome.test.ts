import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from './machinery/log.ts';
import { createOperatorMetrics } from './metrics.ts';
import { failedReconcile, logEvent } from './reconcile-outcome.ts';

function recordingLog() {
  const lines: { level: string; msg: string }[] = [];
  return { lines, log: createLogger('json', (line) => lines.push(JSON.parse(line) as { level: string; msg: string })) };
}

const conflict = Object.assign(new Error('Operation cannot be fulfilled: the object has been modified'), { code: 409 });
const forbidden = Object.assign(new Error('pods is forbidden'), { code: 403 });

void test('an update conflict is counted as result="conflict", apart from errors, and logged', async () => {
  const { lines, log } = recordingLog();
  const metrics = createOperatorMetrics({ collectDefault: false });
  metrics.reconciled(failedReconcile(log, conflict, 0), 0.01);
  metrics.reconciled(failedReconcile(log, forbidden, 1), 0.01);
  const text = await metrics.registry.metrics();
  assert.match(text, /pipetrain_operator_reconcile_total\{result="conflict"\} 1/);
  assert.match(text, /pipetrain_operator_reconcile_total\{result="error"\} 1/);
  assert.match(text, /controller_runtime_reconcile_errors_total\{controller="pipelinejob"\} 1/);
  assert.deepEqual(lines.map((l) => [l.level, l.msg]), [['info', 'Update conflicted; retrying with fresh state'], ['error', 'Reconcile failed']]);
});

void test('Warning events are logged at warn, Normal events at info', () => {
  const { lines, log } = recordingLog();
  logEvent(log, { type: 'Warning', reason: 'StageFailed', message: 'stage 1 exited with code 1' });
  logEvent(log, { type: 'Normal', reason: 'PodsCreated', message: 'Created 3 stage pods' });
  assert.deepEqual(lines.map((l) => l.level), ['warn', 'info']);
});
