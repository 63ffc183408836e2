// Bad input to a GPT job that only the data can reveal: one clear error naming the field, and
// nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listCheckpoints } from '../../../trainer/src/checkpoint/index.ts';
import { gptWorkspace } from '../../support/gpt-jobs.ts';
import { mobyDickText, writeTokenFolder } from '../../support/token-folders.ts';
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

test('resuming after the training data changed is refused: the checkpoint is of another run', { timeout: 300_000 }, async () => {
  const { dir, job, checkpoints } = await gptWorkspace({ chars: 330 });
  const spec = JSON.parse(await readFile(job, 'utf8'));
  spec.spec.data.dataset.sampling = 'sequential';
  await writeFile(job, JSON.stringify(spec));
  // 12 steps with about 9 per epoch: the checkpoint of step 12 is in the second epoch.
  assert.equal(parseSummary(await runCli(['train', job, '--json', '--set', 'spec.training.steps=12'])).status, 'Succeeded');
  // The same characters twice: the same vocabulary, but other shards (and twice the windows per epoch).
  await writeTokenFolder(join(dir, 'tokens'), (await mobyDickText(330)).repeat(2), { shardTokens: 2000 });
  // The same job (a longer one would be another run: its spec hash covers the training settings).
  const result = await runCli(['train', job, '--json', '--set', 'spec.training.steps=12']);
  assert.equal(result.code, 1, result.stderr);
  // The shards' content is part of the run's identity, so the checkpoint belongs to another run.
  assert.match(parseSummary(result).error!, /checkpoint step 12 in .*checkpoints was written for a different run: its model, data or training settings differ/);
  assert.equal((await listCheckpoints(checkpoints)).at(0)!.step, 12, 'no checkpoint was written');
  await rm(dir, { recursive: true, force: true });
});
