// One command from raw text to a model: a tokens dataset with `prepare` settings is prepared by
// `pipetrain train` before the stages start, and a second run finds it up to date (prepare's cache).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gptWorkspace } from '../../support/gpt-jobs.ts';
import { mobyDickText } from '../../support/token-folders.ts';
import { parseSummary, runCli } from './cli-runner.ts';

test('train prepares a tokens dataset from its prepare settings first, and finds it up to date the next time', { timeout: 300_000 }, async () => {
  const { dir, job } = await gptWorkspace({ spec: { checkpoint: undefined } });
  await rm(join(dir, 'tokens'), { recursive: true });
  await writeFile(join(dir, 'moby.txt'), await mobyDickText(6000));
  const spec = JSON.parse(await readFile(job, 'utf8'));
  spec.spec.data.dataset.prepare = { input: ['moby.txt'], tokenizer: 'char' };
  spec.spec.training.steps = 2;
  await writeFile(job, JSON.stringify(spec));

  const first = await runCli(['train', job, '--json']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(parseSummary(first).status, 'Succeeded');
  assert.match(first.stderr, /Prepared tokens/);
  const meta = JSON.parse(await readFile(join(dir, 'tokens', 'meta.json'), 'utf8')) as { tokenizer: { type: string } };
  assert.equal(meta.tokenizer.type, 'char');
  const written = (await stat(join(dir, 'tokens', 'meta.json'))).mtimeMs;

  const second = await runCli(['train', job, '--json']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /Prepared data is up to date: tokens/);
  assert.equal((await stat(join(dir, 'tokens', 'meta.json'))).mtimeMs, written, 'nothing was prepared again');
  assert.equal(parseSummary(second).weightsSha256, parseSummary(first).weightsSha256);
  await rm(dir, { recursive: true, force: true });
});

test('a prepare input that does not exist fails the run naming the field, before any stage starts', { timeout: 120_000 }, async () => {
  const { dir, job } = await gptWorkspace({ spec: { checkpoint: undefined } });
  await rm(join(dir, 'tokens'), { recursive: true });
  const spec = JSON.parse(await readFile(job, 'utf8'));
  spec.spec.data.dataset.prepare = { input: ['missing.txt'], tokenizer: 'char' };
  await writeFile(job, JSON.stringify(spec));
  const result = await runCli(['train', job, '--json']);
  assert.equal(result.code, 1);
  assert.match(parseSummary(result).error!, /spec\.data\.dataset\.prepare\.input/);
  await assert.rejects(stat(join(dir, 'tokens')), { code: 'ENOENT' }, 'nothing was written');
  await rm(dir, { recursive: true, force: true });
});
