import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jobYaml } from '../../../test/support/spec-jobs.ts';

const bin = fileURLToPath(new URL('../../bin/pipetrain.js', import.meta.url));
const folder = mkdtempSync(join(tmpdir(), 'pipetrain-validate-'));

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, 'validate', ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function file(name: string, text: string): string {
  const path = join(folder, name);
  writeFileSync(path, text);
  return path;
}

void test('a valid file prints a one-line summary and exits 0', () => {
  const path = file('good.yaml', jobYaml());
  const { status, stdout } = run(path);
  assert.equal(status, 0);
  assert.equal(
    stdout,
    `${path}: valid PipelineJob mnist-mlp: 3 layers (50,890 parameters) in 2 stages (parameters), 1F1B with 4 micro-batches of 8, adam, 100 steps\n`,
  );
});

void test('every problem is printed with its position and the exit status is 1', () => {
  const path = file('bad.yaml', jobYaml({ 'spec.pipeline.microBatches': 0, 'spec.pipline': 1 }));
  const { status, stderr } = run(path);
  assert.equal(status, 1);
  assert.match(stderr, /bad\.yaml:\d+:\d+: spec\.pipeline\.microBatches: must be >= 1, got 0\n/);
  assert.match(stderr, /bad\.yaml:\d+:\d+: spec\.pipline: unknown field; did you mean 'pipeline'\?\n/);
  assert.match(stderr, /bad\.yaml: 2 problem\(s\)\n$/);
});

void test('--set overrides are applied and can be repeated', () => {
  const path = file('set.yaml', jobYaml());
  const { status, stdout } = run(path, '--set', 'spec.pipeline.stages=3', '--set', 'spec.pipeline.schedule=GPipe');
  assert.equal(status, 0);
  assert.match(stdout, /in 3 stages \(parameters\), GPipe with 4 micro-batches/);
  assert.equal(run(path, '--set', 'spec.pipeline.stages=9').status, 1);
});

void test('a missing file is a problem, not a crash', () => {
  const { status, stderr } = run(join(folder, 'nope.yaml'));
  assert.equal(status, 1);
  assert.match(stderr, /nope\.yaml: file not found/);
});
