// Real scrape tests: a stage's metrics server scraped by Debian's Prometheus 2.42 on loopback.
// They FAIL (with the install command) when /usr/bin/prometheus is missing; CI installs it in .ci/run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startMetricsServer } from '../../trainer/src/metrics/server.ts';
import { createStageMetrics, type StageMetrics } from '../../trainer/src/metrics/stage-metrics.ts';
import { startPrometheus, type PromSample, type RunningPrometheus } from './prometheus.ts';

const TIMEOUT_MS = 30_000;

const valueOf = (sample: PromSample | undefined): number => Number(sample?.value?.[1]);

/** Runs `body` against a stage (job "mnist", stage 2) that has finished 3 steps and is being scraped. */
async function scraped(honorLabels: boolean, body: (prometheus: RunningPrometheus, metrics: StageMetrics, target: string) => Promise<void>): Promise<void> {
  const metrics = createStageMetrics({ job: 'mnist', stage: 2 });
  metrics.setTotalSteps(50);
  metrics.setPhase('training');
  for (let step = 0; step < 3; step++) metrics.observeStep({ step, wallSeconds: 0.05, computeSeconds: 0.04, idleSeconds: 0.01, samples: 32, loss: 1 / (step + 1) });
  const server = await startMetricsServer({ port: 0, registry: metrics.registry, status: () => metrics.status() });
  try {
    const target = `127.0.0.1:${server.port}`;
    const prometheus = await startPrometheus([target], { honorLabels });
    try {
      await body(prometheus, metrics, target);
    } finally {
      await prometheus.stop();
    }
  } finally {
    await server.close();
  }
}

test('Prometheus scrapes pipetrain_step, a samples rate and the job/stage labels (honor_labels: true)', { timeout: 90_000 }, async () => {
  await scraped(true, async (prometheus, metrics, target) => {
    const [step, ...others] = await prometheus.waitFor('pipetrain_step', (r) => valueOf(r[0]) === 3, TIMEOUT_MS);
    assert.deepEqual(others, []);
    assert.equal(step?.metric.job, 'mnist');
    assert.equal(step?.metric.stage, '2');
    assert.equal(step?.metric.instance, target);

    // Keep training so the counter moves between scrapes.
    let next = 3;
    const timer = setInterval(() => metrics.observeStep({ step: next++, wallSeconds: 0.05, computeSeconds: 0.04, idleSeconds: 0.01, samples: 32 }), 100);
    try {
      const [rate] = await prometheus.waitFor('rate(pipetrain_samples_total{job="mnist",stage="2"}[5s])', (r) => valueOf(r[0]) > 0, TIMEOUT_MS);
      assert.deepEqual([rate?.metric.job, rate?.metric.stage], ['mnist', '2']);
    } finally {
      clearInterval(timer);
    }

    const [phase] = await prometheus.query('pipetrain_stage_phase == 1');
    assert.equal(phase?.metric.phase, 'training');
    const buckets = await prometheus.query('sum by (le) (pipetrain_step_duration_seconds_bucket{job="mnist"})');
    assert.ok(buckets.length > 10, 'histogram buckets are scraped');
    assert.deepEqual(await prometheus.query('pipetrain_loss{stage="2"}').then((r) => r.length), 1);
    const bytes = await prometheus.query('pipetrain_transport_bytes_total');
    assert.equal(bytes.length, 4, 'pre-initialised transport series are scraped before any traffic');
    assert.equal(valueOf((await prometheus.query('pipetrain_total_steps'))[0]), 50);
  });
});

test("with Prometheus's default honor_labels: false our job label arrives as exported_job", { timeout: 90_000 }, async () => {
  // `job` is also the target label Prometheus attaches to every scraped series (the scrape config's
  // job_name). Without honor_labels the exposed value is kept, renamed to exported_job.
  await scraped(false, async (prometheus) => {
    const [step] = await prometheus.waitFor('pipetrain_step', (r) => valueOf(r[0]) === 3, TIMEOUT_MS);
    assert.equal(step?.metric.job, 'pipetrain-test');
    assert.equal(step?.metric.exported_job, 'mnist');
    assert.equal(step?.metric.stage, '2');
  });
});

test('startPrometheus fails with the install command when the binary is missing', async () => {
  await assert.rejects(startPrometheus(['127.0.0.1:1'], { binary: '/nonexistent/prometheus' }), {
    message: /Prometheus binary not found at \/nonexistent\/prometheus\. .*apt-get install -y prometheus/,
  });
});
