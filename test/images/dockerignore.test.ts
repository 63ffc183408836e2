// .dockerignore as Docker reads it, and what the repository's one lets into the build context.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isIgnored, parseDockerignore } from './dockerignore.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

test('the last matching pattern wins; a parent folder matching counts; ** spans folders', () => {
  const rules = parseDockerignore('# comment\n*\n!src\n**/*.test.ts\n!src/keep.test.ts\nsrc/tmp/\n');
  assert.equal(isIgnored(rules, 'README.md'), true);
  assert.equal(isIgnored(rules, 'src/a/b.ts'), false);
  assert.equal(isIgnored(rules, 'src/a/b.test.ts'), true);
  assert.equal(isIgnored(rules, 'src/keep.test.ts'), false);
  assert.equal(isIgnored(rules, 'src/tmp/x.ts'), true);
  assert.equal(isIgnored(parseDockerignore('a?c\n'), 'abc'), true);
  assert.equal(isIgnored(parseDockerignore('a*\n'), 'ab/c'), true);
  assert.equal(isIgnored(parseDockerignore('a*\n'), 'x/ab'), false);
});

test("the repository's .dockerignore lets in the sources, not tests, docs or node_modules", () => {
  const rules = parseDockerignore(readFileSync(`${REPO}.dockerignore`, 'utf8'));
  for (const kept of ['package.json', 'package-lock.json', 'trainer/bin/pipetrain.js', 'trainer/src/cli/main.ts', 'operator/bin/pipetrain.js']) {
    assert.equal(isIgnored(rules, kept), false, kept);
  }
  for (const left of ['trainer/src/cli/main.test.ts', 'test/support/tiny-jobs.ts', 'docs/images.md', 'node_modules/yaml/index.js', 'examples/mnist-mlp.yaml', '.git/HEAD']) {
    assert.equal(isIgnored(rules, left), true, left);
  }
});
