import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';
import { createStageMetrics, PHASES } from './stage-metrics.ts';
import { INSTALL_HINT } from '../../../test/support/prometheus.ts';

const PROMTOOL = '/usr/bin/promtool';
const T0 = Date.parse('2026-01-02T03:04:05.000Z');

/** All series of `name` as { labels, value } (histograms: `metricName` tells _bucket/_sum/_count). */
async function series(registry: Registry, name: string): Promise<Array<MetricValue<string> & { metricName?: string }>> {
  const metrics = (await registry.getMetricsAsJSON()) as Array<MetricObjectWithValues<MetricValue<string>>>;
  const metric = metrics.find((m) => m.name === name);
  assert.ok(metric, `metric ${name} is registered`);
  return metric.values;
}

async function value(registry: Registry, name: string, labels: Record<string, string> = {}, metricName = name): Promise<number | undefined> {
  const found = (await series(registry, name)).filter(
    (v) => (v.metricName ?? name) === metricName && Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l),
  );
  assert.ok(found.length <= 1, `at most one series of ${metricName} matches ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

function promtool(exposition: string): { code: number | null; output: string } {
  assert.ok(existsSync(PROMTOOL), `promtool not found at ${PROMTOOL}. ${INSTALL_HINT}`);
  assert.ok(exposition.length > 0, 'promtool gets a non-empty exposition (it accepts empty input)');
  const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return { code: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

test('every known series exists at 0 before the first event; the loss does not', async () => {
  const { registry } = createStageMetrics({ job: 'mnist', stage: 2 }, { collectDefault: false });
  const base = { job: 'mnist', stage: '2' };
  for (const name of ['pipetrain_step', 'pipetrain_total_steps', 'pipetrain_samples_total', 'pipetrain_stage_compute_seconds_total', 'pipetrain_stage_idle_seconds_total', 'pipetrain_samples_per_second', 'pipetrain_last_step_timestamp_seconds']) {
    assert.deepEqual(await series(registry, name), [{ labels: base, value: 0 }], name);
  }
  assert.equal(await value(registry, 'pipetrain_step_duration_seconds', base, 'pipetrain_step_duration_seconds_count'), 0);
  assert.deepEqual(await series(registry, 'pipetrain_loss'), []);
  for (const peer of ['upstream', 'downstream']) {
    for (const direction of ['sent', 'received']) assert.equal(await value(registry, 'pipetrain_transport_bytes_total', { ...base, peer, direction }), 0);
    assert.equal(await value(registry, 'pipetrain_transport_send_duration_seconds', { ...base, peer }, 'pipetrain_transport_send_duration_seconds_count'), 0);
  }
  const phases = await series(registry, 'pipetrain_stage_phase');
  assert.deepEqual(
    phases.map((v) => [v.labels.phase, v.value]),
    PHASES.map((p) => [p, p === 'starting' ? 1 : 0]),
  );
});

test('observeStep updates step, counters, histogram, throughput, timestamp and status', async () => {
  let clock = T0;
  const metrics = createStageMetrics({ job: 'mnist', stage: 3 }, { collectDefault: false, now: () => clock });
  const { registry } = metrics;
  metrics.setTotalSteps(100);
  metrics.setPhase('training');
  metrics.observeStep({ step: 0, wallSeconds: 0.5, computeSeconds: 0.3, idleSeconds: 0.2, samples: 64, loss: 2.5 });
  clock += 250;
  metrics.observeStep({ step: 1, wallSeconds: 0.25, computeSeconds: 0.2, idleSeconds: 0.05, samples: 64, loss: 1.5, valLoss: 1.75 });

  assert.equal(await value(registry, 'pipetrain_step'), 2);
  assert.equal(await value(registry, 'pipetrain_total_steps'), 100);
  assert.equal(await value(registry, 'pipetrain_samples_total'), 128);
  assert.equal(await value(registry, 'pipetrain_stage_compute_seconds_total'), 0.5);
  assert.equal(await value(registry, 'pipetrain_stage_idle_seconds_total'), 0.25);
  assert.equal(await value(registry, 'pipetrain_loss'), 1.5);
  assert.equal(await value(registry, 'pipetrain_validation_loss'), 1.75);
  assert.equal(await value(registry, 'pipetrain_samples_per_second'), 256);
  assert.equal(await value(registry, 'pipetrain_last_step_timestamp_seconds'), (T0 + 250) / 1000);
  assert.equal(await value(registry, 'pipetrain_step_duration_seconds', {}, 'pipetrain_step_duration_seconds_count'), 2);
  assert.equal(await value(registry, 'pipetrain_step_duration_seconds', {}, 'pipetrain_step_duration_seconds_sum'), 0.75);
  assert.equal(await value(registry, 'pipetrain_step_duration_seconds', { le: '0.25' }, 'pipetrain_step_duration_seconds_bucket'), 1);
  assert.equal(await value(registry, 'pipetrain_step_duration_seconds', { le: '0.5' }, 'pipetrain_step_duration_seconds_bucket'), 2);
  assert.equal(await value(registry, 'pipetrain_stage_phase', { phase: 'training' }), 1);
  assert.equal(await value(registry, 'pipetrain_stage_phase', { phase: 'starting' }), 0);

  assert.deepEqual(metrics.status(), {
    job: 'mnist',
    stage: 3,
    phase: 'training',
    step: 2,
    totalSteps: 100,
    loss: 1.5,
    samplesPerSecond: 256,
    lastStepAt: '2026-01-02T03:04:05.250Z',
    stepDurationSeconds: 0.25,
  });
});

test('stages without a loss never export pipetrain_loss; status starts empty', async () => {
  const metrics = createStageMetrics({ job: 'mnist', stage: 0 }, { collectDefault: false, now: () => T0 });
  assert.deepEqual(metrics.status(), {
    job: 'mnist',
    stage: 0,
    phase: 'starting',
    step: 0,
    totalSteps: null,
    loss: null,
    samplesPerSecond: null,
    lastStepAt: null,
    stepDurationSeconds: null,
  });
  metrics.observeStep({ step: 0, wallSeconds: 0.1, computeSeconds: 0.1, idleSeconds: 0, samples: 32 });
  assert.deepEqual(await series(metrics.registry, 'pipetrain_loss'), []);
  assert.equal(metrics.status().loss, null);
  assert.equal(metrics.status().step, 1);
});

test('linkEvents count bytes per peer and direction and time the sends', async () => {
  const metrics = createStageMetrics({ job: 'mnist', stage: 1 }, { collectDefault: false });
  const { registry } = metrics;
  const up = metrics.linkEvents('upstream');
  const down = metrics.linkEvents('downstream');
  up.onSent(1000, 0.0002);
  up.onSent(500, 0.003);
  up.onReceived(4096);
  down.onReceived(10);
  assert.equal(await value(registry, 'pipetrain_transport_bytes_total', { peer: 'upstream', direction: 'sent' }), 1500);
  assert.equal(await value(registry, 'pipetrain_transport_bytes_total', { peer: 'upstream', direction: 'received' }), 4096);
  assert.equal(await value(registry, 'pipetrain_transport_bytes_total', { peer: 'downstream', direction: 'sent' }), 0);
  assert.equal(await value(registry, 'pipetrain_transport_bytes_total', { peer: 'downstream', direction: 'received' }), 10);
  const sendName = 'pipetrain_transport_send_duration_seconds';
  assert.equal(await value(registry, sendName, { peer: 'upstream' }, `${sendName}_count`), 2);
  assert.equal(await value(registry, sendName, { peer: 'upstream', le: '0.00025' }, `${sendName}_bucket`), 1);
  assert.equal(await value(registry, sendName, { peer: 'downstream' }, `${sendName}_count`), 0);
  assert.equal(metrics.linkEvents('upstream'), up, 'the same hooks object per peer');
});

test('each call has its own registry', async () => {
  const a = createStageMetrics({ job: 'a', stage: 0 }, { collectDefault: false });
  const b = createStageMetrics({ job: 'b', stage: 1 }, { collectDefault: false });
  a.observeStep({ step: 4, wallSeconds: 1, computeSeconds: 1, idleSeconds: 0, samples: 8 });
  assert.notEqual(a.registry, b.registry);
  assert.equal(await value(a.registry, 'pipetrain_step'), 5);
  assert.equal(await value(b.registry, 'pipetrain_step'), 0);
  assert.match(await b.registry.getSingleMetricAsString('pipetrain_step'), /^pipetrain_step\{job="b",stage="1"\} 0$/m);
});

test('default process metrics are unprefixed, labelled, and only collected when asked', async () => {
  const withDefaults = createStageMetrics({ job: 'mnist', stage: 1 });
  const cpu = await withDefaults.registry.getSingleMetricAsString('process_cpu_user_seconds_total');
  assert.match(cpu, /^process_cpu_user_seconds_total\{job="mnist",stage="1"\} /m);
  const without = createStageMetrics({ job: 'mnist', stage: 1 }, { collectDefault: false });
  assert.equal(without.registry.getSingleMetric('process_cpu_user_seconds_total'), undefined);
  assert.ok((await without.registry.getMetricsAsJSON()).every((m) => m.name.startsWith('pipetrain_')));
});

test('bad arguments throw TypeErrors that say what is wrong', () => {
  assert.throws(() => createStageMetrics({ job: '', stage: 0 }), { name: 'TypeError', message: /labels\.job must be a non-empty string/ });
  assert.throws(() => createStageMetrics({ job: 'j', stage: -1 }), { name: 'TypeError', message: /labels\.stage must be a non-negative integer/ });
  const metrics = createStageMetrics({ job: 'j', stage: 0 }, { collectDefault: false });
  const ok = { step: 0, wallSeconds: 1, computeSeconds: 1, idleSeconds: 0, samples: 1 };
  assert.throws(() => metrics.observeStep({ ...ok, step: 1.5 }), { name: 'TypeError', message: /step must be a non-negative integer/ });
  assert.throws(() => metrics.observeStep({ ...ok, idleSeconds: -0.1 }), { name: 'TypeError', message: /idleSeconds must be a finite number >= 0; got -0.1/ });
  assert.throws(() => metrics.observeStep({ ...ok, wallSeconds: Number.NaN }), { name: 'TypeError', message: /wallSeconds/ });
  assert.throws(() => metrics.linkEvents('sideways' as 'upstream'), { name: 'TypeError', message: /peer must be one of upstream, downstream/ });
  assert.throws(() => metrics.setPhase('done' as 'finished'), { name: 'TypeError', message: /phase must be one of/ });
  assert.throws(() => metrics.setTotalSteps(-3), { name: 'TypeError', message: /totalSteps/ });
  assert.throws(() => metrics.linkEvents('upstream').onSent(-1, 0), { name: 'TypeError', message: /bytes/ });
});

test('promtool check metrics accepts the exposition of our metrics', async () => {
  const metrics = createStageMetrics({ job: 'mnist', stage: 1 }, { collectDefault: false });
  metrics.setTotalSteps(10);
  metrics.setPhase('training');
  metrics.observeStep({ step: 0, wallSeconds: 0.2, computeSeconds: 0.15, idleSeconds: 0.05, samples: 64, loss: 2.3 });
  metrics.linkEvents('downstream').onSent(2048, 0.001);
  const result = promtool(await metrics.registry.metrics());
  assert.deepEqual(result, { code: 0, output: '' });
});

test("promtool's only complaints about the default process metrics are prom-client's own gauge names", async () => {
  // prom-client 15.1 exports nodejs_active_{handles,requests,resources}_total as gauges; promtool
  // 2.42 flags them (exit code 3 = lint problems). Our pipetrain_* metrics must add nothing here.
  const metrics = createStageMetrics({ job: 'mnist', stage: 1 });
  const result = promtool(await metrics.registry.metrics());
  const problems = result.output.split('\n').filter(Boolean);
  assert.ok(problems.every((line) => /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/.test(line)), result.output);
  assert.equal(result.code, problems.length === 0 ? 0 : 3);
});
