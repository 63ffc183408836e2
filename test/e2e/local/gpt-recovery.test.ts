// Exact resume of a GPT with real processes: SIGKILL a stage mid-run and the run still ends with
// the uninterrupted run's weights and validation loss. The job trains on sequential epochs over a
// tiny corpus (about 9 steps per epoch), so a resume that lost the data position would train on
// other windows; the tied embedding/head matrix is stored once and restored on both stages.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadLatestCommitted } from '../../../trainer/src/checkpoint/index.ts';
import { activeStagePids } from '../../../trainer/src/stage/process-title.ts';
import { gptWorkspace } from '../../support/gpt-jobs.ts';
import { parseSummary, progressStep, runCli, type Summary } from './cli-runner.ts';

const STEPS = 16;
let reference = { digest: '', valLoss: 0 };

/** 330 characters of Moby Dick, sequential windows, 16 steps, checkpoints every 4. */
async function sequentialWorkspace() {
  const workspace = await gptWorkspace({ chars: 330 });
  const job = JSON.parse(await readFile(workspace.job, 'utf8'));
  job.spec.data.dataset.sampling = 'sequential';
  job.spec.training.steps = STEPS;
  await writeFile(workspace.job, JSON.stringify(job));
  return workspace;
}

const summaryOf = (result: Awaited<ReturnType<typeof runCli>>) => parseSummary(result) as Summary & { valLoss: number };

before(async () => {
  const { job, dir } = await sequentialWorkspace();
  const result = await runCli(['train', job, '--json']);
  const summary = summaryOf(result);
  assert.equal(summary.status, 'Succeeded', result.stderr);
  assert.ok(Number.isFinite(summary.valLoss));
  reference = { digest: summary.weightsSha256, valLoss: summary.valLoss };
  await rm(dir, { recursive: true, force: true });
});

test('a GPT killed twice (SIGKILL) ends with the uninterrupted weights and validation loss', { timeout: 300_000 }, async () => {
  const { job, dir, checkpoints } = await sequentialWorkspace();
  const seed = Date.now() % 100_000;
  // One kill inside the second epoch, one right after the checkpoint of step 12.
  const pending = [6, 12];
  const killed: string[] = [];
  let resumed = true;
  const result = await runCli(['train', job, '--json'], (line, cliPid) => {
    if (line.includes('Resumed from step')) resumed = true;
    const step = progressStep(line);
    if (step === undefined || !resumed || pending.length === 0 || step < pending[0]!) return;
    pending.shift();
    resumed = false;
    const pids = activeStagePids(cliPid);
    const victim = pids[(seed + step) % pids.length];
    if (victim) {
      process.kill(victim, 'SIGKILL');
      killed.push(`step ${step}: pid ${victim}`);
    }
  });
  const summary = summaryOf(result);
  const where = `seed ${seed}, kills ${killed.join(', ')}`;
  assert.equal(summary.status, 'Succeeded', `${where}\n${result.stderr}`);
  assert.equal(killed.length, 2, where);
  // Under load a stall timeout may add a restart of its own; every kill must have caused one.
  assert.ok(summary.restarts >= 2, `${where}: ${summary.restarts} restart(s)`);
  assert.equal(summary.weightsSha256, reference.digest, where);
  assert.equal(summary.valLoss, reference.valLoss, where);

  // The data position is in the manifests: step 12 is past the first epoch.
  // Read through the commit record (a verified, committed step), never a step folder directly.
  const atStep12 = await loadLatestCommitted(checkpoints, { layers: [0], step: 12, log: () => {} });
  assert.ok(atStep12, `${where}: step 12 is not committed and verified`);
  assert.ok(atStep12.data.epoch >= 1, JSON.stringify(atStep12.data));
  // The tied matrix is stored once, with the embedding (layer 0); the head's layer (6) holds nothing.
  const head = await loadLatestCommitted(checkpoints, { layers: [6], log: () => {} });
  assert.deepEqual(head!.layers.get(6)!.weights, []);
  await rm(dir, { recursive: true, force: true });
});

test('a GPT checkpoint resumes on another number of stages with the same weights', { timeout: 300_000 }, async () => {
  const { job, dir, checkpoints } = await sequentialWorkspace();
  assert.equal(summaryOf(await runCli(['train', job, '--json'])).status, 'Succeeded');
  // Keep the checkpoints up to step 8 only, then finish the run on 2 stages instead of 3.
  for (const step of [12, 16]) await rm(join(checkpoints, `step-${String(step).padStart(9, '0')}`), { recursive: true });
  const result = await runCli(['train', job, '--json', '--set', 'spec.pipeline.stages=2']);
  const resumed = summaryOf(result);
  assert.equal(resumed.resumedFrom, 8, result.stderr);
  assert.equal(resumed.partition.length, 2);
  assert.equal(resumed.weightsSha256, reference.digest);
  assert.equal(resumed.valLoss, reference.valLoss);
  await rm(dir, { recursive: true, force: true });
});
