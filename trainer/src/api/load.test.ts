import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProblems, parsePipelineJobYaml, type Problem } from './load.ts';
import { jobYaml } from '../../../test/support/spec-jobs.ts';
import { broken } from '../../../test/support/broken-jobs.ts';

function problemsOf(yaml: string, overrides: string[] = []): Problem[] {
  const result = parsePipelineJobYaml(yaml, 'job.yaml', overrides);
  assert.equal(result.ok, false, 'expected the job to be rejected');
  return result.ok ? [] : result.problems;
}

void test('the base job is valid', () => {
  const result = parsePipelineJobYaml(jobYaml(), 'job.yaml');
  assert.ok(result.ok, result.ok ? '' : formatProblems(result.problems, 'job.yaml'));
});

for (const { name, yaml, overrides, expect, line } of broken) {
  void test(`rejects: ${name}`, () => {
    const text = formatProblems(problemsOf(yaml, overrides), 'job.yaml');
    assert.ok(text.includes(expect), `expected ${JSON.stringify(expect)} in:\n${text}`);
    if (line !== undefined) assert.ok(text.includes(`job.yaml:${line}:`), `expected line ${line} in:\n${text}`);
  });
}

void test('every problem is reported at once', () => {
  const problems = problemsOf(jobYaml({ 'spec.pipeline.microBatches': 0, 'spec.data.batchSize': -1, 'spec.model.loss': 'x', 'spec.extra': 1 }));
  assert.deepEqual(problems.map((p) => p.path).sort(), ['spec.data.batchSize', 'spec.extra', 'spec.model.loss', 'spec.pipeline.microBatches']);
});

void test('problems carry the line and column of the offending node', () => {
  const yaml = jobYaml({ 'spec.pipeline.microBatches': 0 });
  const line = yaml.split('\n').findIndex((l) => l.includes('microBatches: 0')) + 1;
  const [problem] = problemsOf(yaml);
  assert.deepEqual(problem, { path: 'spec.pipeline.microBatches', message: 'must be >= 1, got 0', line, column: 19 });
});

void test('semantic problems are all reported together', () => {
  const problems = problemsOf(jobYaml({ 'spec.pipeline.stages': 5, 'spec.data.batchSize': 30, 'spec.training.epochs': 2 }));
  assert.equal(problems.length, 3);
});

void test('--set overrides apply before validation', () => {
  const result = parsePipelineJobYaml(jobYaml(), 'job.yaml', ['spec.pipeline.stages=3', 'spec.model.layers[0].units=32', 'spec.training.backend=cpu']);
  assert.ok(result.ok);
  assert.equal(result.job.spec.pipeline.stages, 3);
  assert.equal(result.job.spec.model.layers[0]?.type === 'dense' && result.job.spec.model.layers[0].units, 32);
  assert.equal(result.job.spec.training.backend, 'cpu');
});

void test('a problem in a --set field has no file position', () => {
  const [problem] = problemsOf(jobYaml(), ['spec.pipeline.microBatches=0']);
  assert.equal(problem?.line, undefined);
  assert.match(problem?.message ?? '', /set with --set/);
});
