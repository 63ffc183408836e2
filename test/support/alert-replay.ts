// Test helper: replays series a real run exported (read back from the Prometheus that scraped it)
// through one alert rule of the chart with `promtool test rules`, so the alert is judged on what
// pipetrain really exports, not on hand-written series. One scrape (1 s) becomes one minute of
// promtool time, so a run of a minute covers an alert's `for: 10m`.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import type { RunningPrometheus } from './prometheus.ts';

const run = promisify(execFile);
const PROMTOOL = process.env.PROMTOOL_BIN ?? '/usr/bin/promtool';

export interface ReplayedSeries {
  /** e.g. `pipetrain_step{job="told",stage="0"}` */
  series: string;
  /** One value per scrape, undefined where the series had no sample. */
  values: (number | undefined)[];
}

/**
 * `max by (labels)` of each metric over [start, end] at 1 s resolution, from the real Prometheus.
 * The aggregation drops pod and instance, so a stage's series runs on across its restarts.
 */
export async function recordedSeries(prometheus: RunningPrometheus, metrics: string[], by: string[], selector: string, start: number, end: number): Promise<ReplayedSeries[]> {
  const times = Array.from({ length: Math.floor(end - start) + 1 }, (_, i) => Math.floor(start) + i);
  const all: ReplayedSeries[] = [];
  for (const metric of metrics) {
    const query = `max by (${by.join(', ')}) (${metric}{${selector}})`;
    const url = `${prometheus.url}/api/v1/query_range?query=${encodeURIComponent(query)}&start=${times[0]}&end=${times.at(-1)}&step=1`;
    const body = (await (await fetch(url)).json()) as { status: string; data?: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
    if (body.status !== 'success' || !body.data) throw new Error(`query_range ${query} failed`);
    for (const result of body.data.result) {
      const byTime = new Map(result.values.map(([t, v]) => [Math.round(t), Number(v)]));
      const labels = Object.entries(result.metric).map(([k, v]) => `${k}="${v}"`).join(', ');
      all.push({ series: `${metric}{${labels}}`, values: times.map((t) => byTime.get(t)) });
    }
  }
  return all;
}

export interface AlertCase {
  /** promtool minutes after the first sample. */
  evalMinute: number;
  /** The `stage` labels expected firing; [] for quiet. */
  firingStages: string[];
}

/**
 * Runs `promtool test rules` for `alertName` of `rulesFile` (annotations dropped: this judges the
 * expression and `for`, the wording has its own tests) on the given series. Rejects with promtool's
 * output when an expectation fails.
 */
export async function replayAlert(rulesFile: string, alertName: string, series: ReplayedSeries[], cases: AlertCase[], labels: Record<string, string>): Promise<void> {
  const groups = (parse(await readFile(rulesFile, 'utf8')) as { groups: { name: string; rules: { alert?: string; annotations?: unknown }[] }[] }).groups;
  const rule = groups.flatMap((g) => g.rules).find((r) => r.alert === alertName);
  if (!rule) throw new Error(`no alert ${alertName} in ${rulesFile}`);
  const { annotations: _wording, ...judged } = rule;
  const dir = await mkdtemp(path.join(tmpdir(), 'pipetrain-replay-'));
  try {
    await writeFile(path.join(dir, 'rules.yaml'), JSON.stringify({ groups: [{ name: 'replay', rules: [judged] }] }));
    const severity = (rule as { labels?: Record<string, string> }).labels ?? {};
    const tests = {
      rule_files: ['rules.yaml'],
      evaluation_interval: '1m',
      tests: [{
        interval: '1m',
        input_series: series.map((s) => ({ series: s.series, values: s.values.map((v) => (v === undefined ? '_' : String(v))).join(' ') })),
        alert_rule_test: cases.map((c) => ({
          eval_time: `${c.evalMinute}m`,
          alertname: alertName,
          exp_alerts: c.firingStages.map((stage) => ({ exp_labels: { ...severity, ...labels, stage } })),
        })),
      }],
    };
    await writeFile(path.join(dir, 'tests.yaml'), JSON.stringify(tests));
    try {
      await run(PROMTOOL, ['test', 'rules', 'tests.yaml'], { cwd: dir });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      throw new Error(`promtool test rules on the recorded series failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: error });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The recorded series, continued by `minutes` more samples in which every stage keeps training at
 * its recorded pace and nothing more is committed: checkpoints have stopped.
 */
export function checkpointsStop(series: ReplayedSeries[], minutes: number): ReplayedSeries[] {
  return series.map((s) => {
    const known = s.values.filter((v): v is number => v !== undefined);
    const last = known.at(-1) ?? 0;
    const perSample = s.series.startsWith('pipetrain_step{') && known.length > 1 ? Math.max(1, Math.ceil((last - (known[0] ?? 0)) / known.length)) : 0;
    return { series: s.series, values: [...s.values, ...Array.from({ length: minutes }, (_, i) => last + perSample * (i + 1))] };
  });
}
