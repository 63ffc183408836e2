// The chart's alerts (charts/pipetrain/files/alerts.yaml) checked with promtool: the rule file is valid,
// every alert fires and stays quiet in the unit tests of alerts-tests.yaml, and every alert is tested,
// labelled with a severity, annotated, and has a runbook section in docs/alerts.md.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { CHART_DIR, REPO_ROOT } from './helm.ts';

const run = promisify(execFile);
const PROMTOOL = process.env.PROMTOOL_BIN ?? '/usr/bin/promtool';
const RULES = join(CHART_DIR, 'files/alerts.yaml');
const TESTS = join(REPO_ROOT, 'test/chart/alerts-tests.yaml');

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = (): AlertRule[] => (parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> }).groups.flatMap((g) => g.rules);

async function promtool(args: string[]): Promise<string> {
  if (!existsSync(PROMTOOL)) throw new Error(`promtool not found at ${PROMTOOL}: sudo apt-get install -y prometheus (.ci/run does), or set PROMTOOL_BIN.`);
  try {
    const { stdout, stderr } = await run(PROMTOOL, args, { cwd: REPO_ROOT });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}

test('promtool check rules accepts the alert rules', async () => {
  const out = await promtool(['check', 'rules', RULES]);
  assert.match(out, new RegExp(`SUCCESS: ${rules().length} rules found`));
});

test('promtool test rules: every alert fires and stays quiet as expected', async () => {
  assert.match(await promtool(['test', 'rules', TESTS]), /SUCCESS/);
});

test('every alert has a severity, summary, description and runbook, and unit tests that fire and do not fire', () => {
  const tests = (parse(readFileSync(TESTS, 'utf8')) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }> }).tests.flatMap((t) => t.alert_rule_test ?? []);
  const runbook = readFileSync(join(REPO_ROOT, 'docs/alerts.md'), 'utf8');
  const names = rules().map((r) => r.alert);
  assert.ok(names.length >= 6);
  for (const name of ['PipetrainJobFailed', 'PipetrainJobRestartingRepeatedly', 'PipetrainJobStalled', 'PipetrainCheckpointStale', 'PipetrainPipelineBubbleHigh', 'PipetrainOperatorDown', 'PipetrainOperatorNotLeading']) {
    assert.ok(names.includes(name), `alert ${name} exists`);
  }
  for (const rule of rules()) {
    assert.match(rule.alert, /^Pipetrain[A-Z][A-Za-z]+$/, 'PascalCase alert names with the Pipetrain prefix');
    assert.ok(['critical', 'warning'].includes(rule.labels?.severity ?? ''), `${rule.alert}: severity critical or warning`);
    assert.ok(rule.annotations?.summary, `${rule.alert}: summary`);
    assert.ok(rule.annotations?.description, `${rule.alert}: description`);
    assert.equal(rule.annotations?.runbook_url, `RUNBOOK_URL#${rule.alert.toLowerCase()}`);
    assert.match(runbook, new RegExp(`^## ${rule.alert}$`, 'm'), `docs/alerts.md has a section "## ${rule.alert}"`);
    const cases = tests.filter((t) => t.alertname === rule.alert);
    assert.ok(cases.some((c) => c.exp_alerts.length > 0), `${rule.alert}: a unit test where it fires`);
    assert.ok(cases.some((c) => c.exp_alerts.length === 0), `${rule.alert}: a unit test where it does not fire`);
  }
});
