import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOperatorMetrics } from '../metrics.ts';
import { parseAddress, startHealthServer } from './server.ts';

test('/healthz, /readyz follow readiness, /metrics has the operator and workqueue metrics', async () => {
  let ready = false;
  const metrics = createOperatorMetrics({ collectDefault: false });
  const server = await startHealthServer({ host: '127.0.0.1', port: 0, registry: metrics.registry, ready: () => ready });
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
    return { status: res.status, text: await res.text() };
  };
  try {
    assert.equal((await get('/healthz')).status, 200);
    assert.equal((await get('/readyz')).status, 503);
    ready = true;
    assert.equal((await get('/readyz')).status, 200);
    metrics.reconciled('success', 0.01);
    const text = (await get('/metrics')).text;
    for (const name of ['pipetrain_operator_reconcile_total{result="success"} 1', 'pipetrain_operator_jobs{phase="Running"} 0', 'pipetrain_operator_restarts_total', 'pipetrain_operator_failure_detection_seconds_bucket', 'pipetrain_operator_recovery_seconds_bucket', 'controller_runtime_reconcile_total', 'workqueue_depth{name="pipelinejob"} 0']) {
      assert.ok(text.includes(name), `missing ${name}`);
    }
    assert.equal((await get('/nope')).status, 404);
  } finally {
    await server.close();
  }
});

test('parseAddress', () => {
  assert.deepEqual(parseAddress(':8080'), { host: '0.0.0.0', port: 8080 });
  assert.deepEqual(parseAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.throws(() => parseAddress('nope'), /metrics address/);
});
