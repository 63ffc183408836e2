// Bad input to a GPT job that only the data can reveal: one clear error naming the field, and
// nothing written (no checkpoint folder).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { gptWorkspace } from '../../support/gpt-jobs.ts';
import { parseSummary, runCli } from './cli-runner.ts';

test('a vocabulary in the model that is not the prepared data\'s is refused before training', { timeout: 120_000 }, async () => {
  const { dir, job, checkpoints } = await gptWorkspace({ chars: 2000 });
  const spec = JSON.parse(await readFile(job, 'utf8'));
  spec.spec.model.layers[0].vocabSize = 10;
  await writeFile(job, JSON.stringify(spec));
  const result = await runCli(['train', job, '--json']);
  assert.equal(result.code, 1);
  const summary = parseSummary(result);
  assert.equal(summary.status, 'Failed');
  assert.match(summary.error!, /spec\.model\.layers\[0\]\.vocabSize: the model has a vocabulary of 10 tokens, but the data prepared in .*tokens has \d+ \(char tokenizer, \d+ characters\); remove vocabSize/);
  await assert.rejects(stat(checkpoints), { code: 'ENOENT' }, 'nothing was written');
  await rm(dir, { recursive: true, force: true });
});
