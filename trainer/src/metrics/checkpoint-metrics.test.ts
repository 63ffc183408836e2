import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createCheckpointMetrics } from './checkpoint-metrics.ts';

test('a write sets the size, a commit (by any stage) the step and its commit time; a failure is counted', async () => {
  const registry = new Registry();
  const metrics = createCheckpointMetrics(registry, { job: 'j', stage: 1 });
  metrics.observeWrite({ ok: true, info: { step: 20, stage: 1, bytes: 4096, seconds: 0.2, committed: false } });
  metrics.observeCommit({ step: 20, committedAt: new Date(1_700_000_000_000).toISOString() });
  metrics.observeWrite({ ok: true, info: { step: 40, stage: 1, bytes: 5000, seconds: 0.3, committed: true } });
  metrics.observeWrite({ ok: false, error: 'EROFS' });
  const text = await registry.metrics();
  assert.match(text, /pipetrain_checkpoint_bytes\{job="j",stage="1"\} 5000/);
  assert.match(text, /pipetrain_checkpoint_last_step\{job="j",stage="1"\} 20/);
  assert.match(text, /pipetrain_checkpoint_last_timestamp_seconds\{job="j",stage="1"\} 1700000000/);
  assert.match(text, /pipetrain_checkpoint_failures_total\{job="j",stage="1"\} 1/);
  assert.match(text, /pipetrain_checkpoint_duration_seconds_count\{job="j",stage="1"\} 2/);
});

test('the checkpoint interval is exported only when checkpointing is on', async () => {
  const on = new Registry();
  createCheckpointMetrics(on, { job: 'j', stage: 0 }, 50);
  assert.match(await on.metrics(), /^pipetrain_checkpoint_interval_steps\{job="j",stage="0"\} 50$/m);
  const off = new Registry();
  createCheckpointMetrics(off, { job: 'j', stage: 0 });
  assert.doesNotMatch(await off.metrics(), /^pipetrain_checkpoint_interval_steps\{/m);
});
