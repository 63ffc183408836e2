// The Grafana dashboards of charts/pipetrain/dashboards: (1) the rules of Grafana's dashboard-linter
// (github.com/grafana/dashboard-linter, lint/rule_*.go), re-implemented here because the Go module proxy
// refuses that module on this network; (2) every panel query, after variable substitution, returns data
// from a real Prometheus scraping real stage, supervisor and operator metrics endpoints.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createOperatorMetrics } from '../../operator/metrics.ts';
import { startHealthServer } from '../../operator/machinery/server.ts';
import { createCheckpointMetrics } from '../../trainer/src/metrics/checkpoint-metrics.ts';
import { startPrometheus, type RunningPrometheus } from '../support/prometheus.ts';
import { startMetricsServer } from '../../trainer/src/metrics/server.ts';
import { createStageMetrics } from '../../trainer/src/metrics/stage-metrics.ts';
import { createSupervisorMetrics } from '../../trainer/src/runner/supervisor-metrics.ts';
import { CHART_DIR } from './helm.ts';

interface Target { refId: string; expr: string; datasource?: { type?: string; uid?: string } }
interface Panel { id: number; type: string; title: string; description?: string; datasource?: { type?: string; uid?: string }; fieldConfig?: { defaults?: { unit?: string } }; targets?: Target[] }
interface Variable { name: string; label?: string; type: string; query: unknown; datasource?: { uid?: string }; multi?: boolean; includeAll?: boolean; allValue?: string; refresh?: number }
interface Dashboard { uid: string; title: string; editable: boolean; schemaVersion: number; panels: Panel[]; templating: { list: Variable[] }; __inputs?: unknown }

const DIR = join(CHART_DIR, 'dashboards');
const dashboards: Array<{ file: string; d: Dashboard }> = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()
  .map((file) => ({ file, d: JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Dashboard }));
const panelsOf = (d: Dashboard) => d.panels.filter((p) => p.type !== 'row');

// dashboard-linter's panel-units-rule list (the part that fits this project's panels).
const VALID_UNITS = new Set(['none', 'short', 'percent', 'percentunit', 'bytes', 'decbytes', 'Bps', 'binBps', 's', 'ms', 'µs', 'ns', 'ops', 'reqps', 'cps', 'bool', 'bool_yes_no', 'bool_on_off', 'dtdurations']);

test('three dashboards: Job, Pipeline, Operator', () => {
  assert.deepEqual(dashboards.map((x) => x.d.title).sort(), ['pipetrain / Job', 'pipetrain / Operator', 'pipetrain / Pipeline']);
  assert.equal(new Set(dashboards.map((x) => x.d.uid)).size, 3);
});

for (const { file, d } of dashboards) {
  test(`${file} follows dashboard-linter's rules`, () => {
    const problems: string[] = [];
    const fail = (rule: string, message: string) => problems.push(`${rule}: ${message}`);
    // uneditable-rule; ecosystem.md §4: schemaVersion <= 42, no "export for sharing" inputs.
    if (d.editable !== false) fail('uneditable-rule', 'dashboard must not be editable');
    if (d.schemaVersion > 42) fail('schema', `schemaVersion ${d.schemaVersion} > 42`);
    if (d.__inputs !== undefined || JSON.stringify(d).includes('DS_PROMETHEUS')) fail('sidecar', 'no __inputs / ${DS_PROMETHEUS}');
    // template-datasource-rule
    const dsVars = d.templating.list.filter((v) => v.type === 'datasource');
    if (dsVars.length !== 1 || dsVars[0]?.name !== 'datasource' || dsVars[0]?.query !== 'prometheus') fail('template-datasource-rule', 'one datasource variable named "datasource" of type prometheus');
    // template-job-rule, template-instance-rule
    for (const name of ['job', 'instance']) {
      const v = d.templating.list.find((x) => x.name === name);
      if (!v) { fail(`template-${name}-rule`, `missing the ${name} template`); continue; }
      if (v.datasource?.uid !== '${datasource}' && v.datasource?.uid !== '$datasource') fail(`template-${name}-rule`, 'uses datasource $datasource');
      if (v.type !== 'query') fail(`template-${name}-rule`, 'is a query');
      if (v.label !== name[0]?.toUpperCase() + name.slice(1)) fail(`template-${name}-rule`, `label ${v.label}`);
      if (!v.multi) fail(`template-${name}-rule`, 'multi select');
      if (v.allValue !== '.+') fail(`template-${name}-rule`, `allValue .+ (is ${v.allValue})`);
    }
    // template-on-time-change-reload-rule, template-label-promql-rule
    for (const v of d.templating.list.filter((x) => x.type === 'query')) {
      if (v.refresh !== 2) fail('template-on-time-change-reload-rule', `${v.name} refresh must be 2`);
      const q = typeof v.query === 'string' ? v.query : (v.query as { query: string }).query;
      if (!/^label_values\(.+?(,\s*\w+)?\)$/.test(q)) fail('template-label-promql-rule', `${v.name}: ${q}`);
    }
    for (const p of panelsOf(d)) {
      const where = `panel "${p.title}"`;
      // panel-title-description-rule, panel-datasource-rule, panel-units-rule, panel-no-targets-rule
      if (!p.title || !p.description) fail('panel-title-description-rule', `${where} needs a title and a description`);
      if (p.datasource?.uid !== '${datasource}') fail('panel-datasource-rule', `${where} datasource ${p.datasource?.uid}`);
      if (['stat', 'singlestat', 'graph', 'table', 'timeseries', 'gauge'].includes(p.type) && !VALID_UNITS.has(p.fieldConfig?.defaults?.unit ?? '')) fail('panel-units-rule', `${where} unit ${p.fieldConfig?.defaults?.unit}`);
      if (!p.targets?.length) fail('panel-no-targets-rule', `${where} has no targets`);
      for (const t of p.targets ?? []) {
        if (t.datasource?.uid !== '${datasource}') fail('target-datasource', `${where} target ${t.refId}`);
        // panel-rate-interval / target-rate-interval-rule
        for (const m of t.expr.matchAll(/\b(rate|irate|increase)\(.*?\[([^\]]+)\]/g)) if (m[2] !== '$__rate_interval') fail('target-rate-interval-rule', `${where}: ${m[1]} over [${m[2]}]`);
        // target-counter-agg-rule: *_total only inside rate/irate/increase
        const outside = t.expr.replace(/\b(rate|irate|increase)\((?:[^()]|\([^()]*\))*\)/g, '');
        if (/\w+_total\b/.test(outside)) fail('target-counter-agg-rule', `${where}: a counter outside rate/increase in ${t.expr}`);
        // target-job-rule, target-instance-rule: every selector filters on $job and $instance
        for (const sel of t.expr.matchAll(/\b([a-zA-Z_:][\w:]*)\{([^}]*)\}/g)) {
          for (const name of ['job', 'instance']) if (!sel[2]?.includes(`${name}=~"$${name}"`)) fail(`target-${name}-rule`, `${where}: ${sel[1]} lacks ${name}=~"$${name}"`);
        }
        const bare = t.expr.replace(/\{[^}]*\}/g, '{}').match(/\b(pipetrain|workqueue|controller_runtime)_\w+\b(?!\{)/g);
        if (bare) fail('target-job-rule', `${where}: selector without matchers: ${bare.join(', ')}`);
      }
    }
    assert.deepEqual(problems, []);
  });
}

// ---- Every panel query returns data from a real Prometheus.

const JOB = 'mnist';
let prometheus: RunningPrometheus | undefined;
const closers: Array<() => Promise<void>> = [];
let ticker: NodeJS.Timeout | undefined;

before(async () => {
  // Two stages of a running job (with checkpoints), the local supervisor, and the operator.
  const stages = [0, 1].map((stage) => {
    const metrics = createStageMetrics({ job: JOB, stage }, { collectDefault: false });
    const checkpoints = createCheckpointMetrics(metrics.registry, { job: JOB, stage }, 2);
    metrics.setTotalSteps(1000);
    metrics.setPhase('training');
    return { stage, metrics, checkpoints };
  });
  const supervisor = createSupervisorMetrics(JOB);
  const operator = createOperatorMetrics({ collectDefault: false });
  operator.leading(true);
  operator.workers(1);
  operator.jobsByPhase({ Running: 1 });
  let step = 0;
  const tick = () => {
    for (const { stage, metrics, checkpoints } of stages) {
      metrics.observeStep({ step, wallSeconds: 0.2 + stage * 0.05, computeSeconds: 0.12, idleSeconds: 0.08, samples: 64, loss: stage === 1 ? 2 / (step + 1) : undefined });
      const down = metrics.linkEvents('downstream');
      const up = metrics.linkEvents('upstream');
      down.onSent(40_000, 0.001);
      up.onReceived(40_000);
      up.onSent(20_000, 0.002);
      down.onReceived(20_000);
      if (step % 2 === 0) checkpoints.observeWrite({ ok: true, info: { step, stage, bytes: 123_456, seconds: 0.05, committed: true } });
      if (step % 5 === 4) checkpoints.observeWrite({ ok: false, error: 'disk full' });
    }
    supervisor.restarted('exit');
    supervisor.recovered(1.5);
    supervisor.lostSteps(3);
    operator.reconciled('success', 0.02);
    operator.reconciled('error', 0.03);
    operator.queueHooks.added?.();
    operator.queueHooks.retried?.();
    operator.queueHooks.depth?.(step % 3);
    operator.queueHooks.queued?.(0.001);
    operator.queueHooks.worked?.(0.02);
    operator.observed({ namespace: 'ml', job: JOB }, { restartReason: 'NodeLeaseExpired', lostSteps: 4, detectionSeconds: 2, recoverySeconds: 8, trainingAgainSeconds: 9.5 });
    operator.informerRestarted('pods');
    step += 1;
  };
  tick();
  ticker = setInterval(tick, 250);
  const targets: string[] = [];
  for (const { metrics } of stages) {
    const server = await startMetricsServer({ port: 0, registry: metrics.registry, status: () => metrics.status() });
    closers.push(() => server.close());
    targets.push(`127.0.0.1:${server.port}`);
  }
  const sup = await startMetricsServer({ port: 0, registry: supervisor.registry, status: () => ({ job: JOB }) });
  closers.push(() => sup.close());
  targets.push(`127.0.0.1:${sup.port}`);
  const op = await startHealthServer({ host: '127.0.0.1', port: 0, registry: operator.registry, ready: () => true });
  closers.push(() => op.close());
  targets.push(`127.0.0.1:${op.port}`);
  prometheus = await startPrometheus(targets, { honorLabels: true });
});

after(async () => {
  if (ticker) clearInterval(ticker);
  await prometheus?.stop();
  for (const close of closers) await close();
});

/** Grafana's substitution: the variable's value (or its allValue for "All"), and $__rate_interval. */
function substitute(expr: string, d: Dashboard): string {
  const operator = d.title === 'pipetrain / Operator';
  const values: Record<string, string> = { namespace: '.*', job: operator ? 'pipetrain-test' : JOB, instance: '.+' };
  return expr.replaceAll('$__rate_interval', '5s').replace(/\$(\w+)/g, (all, name: string) => values[name] ?? all);
}

for (const { file, d } of dashboards) {
  test(`${file}: every panel query returns data from a real Prometheus`, { timeout: 60_000 }, async () => {
    assert.ok(prometheus);
    const p = prometheus;
    // Variable queries (label_values(metric{...}, label)) find the label.
    for (const v of d.templating.list.filter((x) => x.type === 'query')) {
      const q = (v.query as { query: string }).query;
      const m = /^label_values\((.+),\s*(\w+)\)$/.exec(q);
      assert.ok(m, q);
      if (m[2] === 'namespace') continue; // only Kubernetes scrapes add a namespace label
      const result = await p.waitFor(substitute(m[1] ?? '', d), (r) => r.some((s) => s.metric[m[2] ?? ''] !== undefined), 20_000);
      assert.ok(result.length > 0, `variable ${v.name}`);
    }
    for (const panel of panelsOf(d)) {
      for (const t of panel.targets ?? []) {
        const promql = substitute(t.expr, d);
        const result = await p.waitFor(promql, (r) => r.some((s) => s.value !== undefined && Number.isFinite(Number(s.value[1]))), 30_000);
        assert.ok(result.length > 0, `${d.title} / ${panel.title} / ${t.refId}: ${promql}`);
      }
    }
  });
}
