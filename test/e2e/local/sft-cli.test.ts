// Supervised fine-tuning end to end with real stage processes: `pipetrain train` on demonstrations
// warns about the ones it skips, resumes exactly from a checkpoint (the data position of the
// per-epoch shuffle is in it), and `pipetrain generate` samples from the result with the recorded
// tokenizer. Bad demonstrations fail the run before any stage starts, naming file:line.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sftWorkspace } from '../../support/sft-jobs.ts';
import { parseSummary, runCli, type Summary } from './cli-runner.ts';

type SftSummary = Summary & { valLoss: number; tokensPerSecond: number };
let reference = { digest: '', valLoss: 0 };

before(async () => {
  const { job, dir } = await sftWorkspace();
  const result = await runCli(['train', job, '--json']);
  const summary = parseSummary(result) as SftSummary;
  assert.equal(summary.status, 'Succeeded', result.stderr);
  // 24 sums + 1 long prompt: 24 kept, 4 of them for validation; 20 / 4 = 5 steps per epoch.
  assert.equal(summary.steps, 15);
  assert.match(result.stderr, /demos\.jsonl: skipped 1 of 25 demonstrations with no completion token within the window of 8 tokens \(lines 25\); shorten their prompts or widen spec\.model\.inputShape\[0\]/);
  assert.ok(Number.isFinite(summary.valLoss) && summary.valLoss > 0);
  assert.equal(summary.tokensPerSecond, summary.samplesPerSecond * 8);
  reference = { digest: summary.weightsSha256, valLoss: summary.valLoss };
  await rm(dir, { recursive: true, force: true });
});

test('an sft run resumed from a checkpoint in its second epoch ends with the uninterrupted weights; generate reads its tokenizer', { timeout: 300_000 }, async () => {
  const { job, dir, checkpoints } = await sftWorkspace();
  assert.equal((parseSummary(await runCli(['train', job, '--json'])) as SftSummary).weightsSha256, reference.digest, 'the same job trains the same weights');
  // Keep the checkpoints up to step 5 only (the start of epoch 2), then finish on 3 stages.
  for (const step of [10, 15]) await rm(join(checkpoints, `step-${String(step).padStart(9, '0')}`), { recursive: true });
  const result = await runCli(['train', job, '--json', '--set', 'spec.pipeline.stages=3']);
  const resumed = parseSummary(result) as SftSummary;
  assert.equal(resumed.resumedFrom, 5, result.stderr);
  assert.equal(resumed.weightsSha256, reference.digest);
  assert.equal(resumed.valLoss, reference.valLoss);
  const generated = await runCli(['generate', checkpoints, '--prompt', '12+3=', '--max-tokens', '4', '--temperature', '0', '--json']);
  assert.equal(generated.code, 0, generated.stderr);
  assert.equal((JSON.parse(generated.stdout.trim()) as { tokens: number[] }).tokens.length, 4);
  await rm(dir, { recursive: true, force: true });
});

test('a bad demonstration fails the run before training, naming file:line and the field; nothing is written', { timeout: 120_000 }, async () => {
  const { job, dir, checkpoints } = await sftWorkspace({ lines: [{ prompt: '1+1=', completion: '2;' }, { prompt: '2+2=', reply: '4;' }] });
  const result = await runCli(['train', job, '--json']);
  assert.equal(result.code, 1);
  const summary = parseSummary(result);
  assert.equal(summary.status, 'Failed');
  assert.match(summary.error!, /demos\.jsonl:2: no "completion" field \(spec\.data\.dataset\.completionField\); the line has the keys "prompt", "reply"/);
  await assert.rejects(stat(checkpoints), { code: 'ENOENT' }, 'nothing was written');
  await rm(dir, { recursive: true, force: true });
});
