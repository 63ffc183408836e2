// One metric definition for both runners: the per-job series the operator exports and the ones the
// local supervisor exports have the same reason names and the same histogram buckets, so one Job
// dashboard and one set of alerts read either.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Registry } from 'prom-client';
import { createOperatorMetrics } from './metrics.ts';
import { createSupervisorMetrics } from '../trainer/src/runner/supervisor-metrics.ts';

/** The values of `label` on the samples of `metric` (after the first scrape), sorted. */
async function labelValues(registry: Registry, metric: string, label: string): Promise<string[]> {
  const all = await registry.getMetricsAsJSON();
  const found = all.find((m) => m.name === metric) as { values: { labels: Record<string, string | number>; metricName?: string }[] } | undefined;
  assert.ok(found, `${metric} is exported`);
  return [...new Set(found.values.map((v) => v.labels[label]).filter((v) => v !== undefined).map(String))].sort();
}

void test('the operator and the local supervisor export the same restart reasons and recovery buckets', async () => {
  const operator = createOperatorMetrics({ collectDefault: false });
  operator.observed({ namespace: 'ns', job: 'tiny' }, {});
  const local = createSupervisorMetrics('tiny');
  local.recovered(1);
  for (const [metric, label] of [['pipetrain_restarts_total', 'reason'], ['pipetrain_recovery_duration_seconds', 'le']] as const) {
    const fromOperator = await labelValues(operator.registry, metric, label);
    assert.ok(fromOperator.length > 3, `${metric} has ${label} values`);
    assert.deepEqual(await labelValues(local.registry, metric, label), fromOperator, `${metric}{${label}}`);
  }
});
