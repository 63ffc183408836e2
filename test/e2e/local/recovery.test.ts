// Issue 3's promises, end to end with real processes: SIGKILL any stage at any moment and the run
// still ends with the weights of an uninterrupted run; corrupt checkpoints are skipped; failed
// writes do not stop training; permanent failures and spent restart budgets end cleanly.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listCheckpoints } from '../../../trainer/src/checkpoint/index.ts';
import { activeStagePids } from '../../../trainer/src/stage/process-title.ts';
import { parseSummary, progressStep, runCli } from './cli-runner.ts';

const JOB = fileURLToPath(new URL('../../fixtures/recovery-job.yaml', import.meta.url));
/** spec.training.steps and spec.checkpoint.everySteps of that job. */
const STEPS = 40;
const EVERY = 4;
let referenceDigest = '';

/** A fresh folder with a copy of the job; its checkpoints go to <folder>/checkpoints. */
async function workspace(): Promise<{ dir: string; job: string; checkpoints: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'pipetrain-recovery-'));
  const job = join(dir, 'job.yaml');
  await copyFile(JOB, job);
  return { dir, job, checkpoints: join(dir, 'checkpoints') };
}

/** Seeded choice of `count` distinct kill moments in [2, max], none in `avoid`; printed so a failure can be replayed. */
function killSteps(seed: number, count: number, max: number, avoid: number[]): number[] {
  let state = seed;
  const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31), state / 2 ** 31);
  const steps = new Set<number>();
  while (steps.size < count) {
    const step = 2 + Math.floor(next() * (max - 1));
    if (!avoid.includes(step)) steps.add(step);
  }
  return [...steps].sort((a, b) => a - b);
}

before(async () => {
  const { job, dir } = await workspace();
  const result = await runCli(['train', job, '--json']);
  const summary = parseSummary(result);
  assert.equal(summary.status, 'Succeeded', result.stderr);
  referenceDigest = summary.weightsSha256;
  await rm(dir, { recursive: true, force: true });
});

test('SIGKILL of a random stage at three moments ends with the uninterrupted digest', async () => {
  const { job, dir } = await workspace();
  const seed = Date.now() % 100_000;
  // One kill lands right after a checkpoint step (4, 8, …), while that checkpoint is being written.
  // Kills stay well before the end: progress lines arrive slightly after the step happened.
  const pending = [...killSteps(seed, 2, STEPS - 8, [3 * EVERY]), 3 * EVERY].sort((a, b) => a - b);
  const killed: string[] = [];
  let lastKilledAt = -1;
  // After a kill, lines of the dying attempt may still arrive: wait for the resume before the next.
  let resumed = true;
  const result = await runCli(['train', job, '--json'], (line, cliPid) => {
    if (line.includes('Resumed from step')) resumed = true;
    const step = progressStep(line);
    if (step === undefined || !resumed || pending.length === 0 || step < pending[0]! || step === lastKilledAt) return;
    pending.shift();
    lastKilledAt = step;
    resumed = false;
    const pids = activeStagePids(cliPid);
    const victim = pids[Math.floor((seed + step) % pids.length)];
    if (victim) {
      process.kill(victim, 'SIGKILL');
      killed.push(`step ${step}: pid ${victim}`);
    }
  });
  const summary = parseSummary(result);
  assert.equal(summary.status, 'Succeeded', `seed ${seed}, kills ${killed.join(', ')}\n${result.stderr}`);
  assert.equal(killed.length, 3, `seed ${seed}: ${killed.join(', ')}`);
  assert.equal(summary.restarts, 3);
  assert.equal(summary.weightsSha256, referenceDigest, `seed ${seed}, kills ${killed.join(', ')}`);
  assert.match(result.stderr, /restarting every stage from the last committed checkpoint/);
  await rm(dir, { recursive: true, force: true });
});

test('a corrupted newest checkpoint is skipped and the run still ends with the same digest', async () => {
  const { job, dir, checkpoints } = await workspace();
  assert.equal(parseSummary(await runCli(['train', job, '--json'])).status, 'Succeeded');
  const [newest, previous] = await listCheckpoints(checkpoints);
  assert.equal(newest!.step, STEPS);
  // Flip one byte in a layer file of the newest checkpoint.
  const folder = join(checkpoints, `step-${String(STEPS).padStart(9, '0')}`);
  const layerFile = join(folder, (await readdir(folder)).find((f) => f.startsWith('layer-'))!);
  const bytes = await readFile(layerFile);
  bytes[bytes.length - 1]! ^= 0xff;
  await writeFile(layerFile, bytes);
  const flipped = await runCli(['train', job, '--json']);
  assert.match(flipped.stderr, /layer-\d+\.bin/, 'the warning names the corrupt file');
  const summary = parseSummary(flipped);
  assert.equal(summary.resumedFrom, previous!.step);
  assert.equal(summary.weightsSha256, referenceDigest);

  // Now delete one stage's part of the (rewritten) newest checkpoint, and resume on 2 stages.
  await rm(join(folder, 'stage-2-of-3.json'));
  const twoStages = await runCli(['train', job, '--json', '--set', 'spec.pipeline.stages=2']);
  const resumed = parseSummary(twoStages);
  assert.equal(resumed.resumedFrom, STEPS - EVERY);
  assert.equal(resumed.partition.length, 2);
  assert.equal(resumed.weightsSha256, referenceDigest);
  await rm(dir, { recursive: true, force: true });
});

test('a failed checkpoint write is logged and training goes on; the previous checkpoint stays valid', async () => {
  const { job, dir, checkpoints } = await workspace();
  // A plain file where step 8's folder should go makes that write fail.
  await rm(checkpoints, { recursive: true, force: true });
  await (await import('node:fs/promises')).mkdir(checkpoints, { recursive: true });
  await writeFile(join(checkpoints, 'step-000000008'), 'in the way');
  const result = await runCli(['train', job, '--json']);
  const summary = parseSummary(result);
  assert.equal(summary.status, 'Succeeded', result.stderr);
  assert.equal(summary.restarts, 0);
  assert.equal(summary.weightsSha256, referenceDigest);
  assert.match(result.stderr, /step-000000008/);
  const steps = (await listCheckpoints(checkpoints)).map((c) => [c.step, c.verified]);
  assert.deepEqual(steps, [[STEPS, true], [STEPS - EVERY, true], [STEPS - 2 * EVERY, true]]);
  await rm(dir, { recursive: true, force: true });
});

test('a permanent failure is not retried', async () => {
  const { job, dir } = await workspace();
  const text = (await readFile(job, 'utf8')).replace(/dataset: \{[^}]*\}/, 'dataset: { type: file, path: nowhere.csv, format: csv }');
  await writeFile(job, text);
  const result = await runCli(['train', job, '--json']);
  assert.equal(result.code, 1);
  const summary = parseSummary(result);
  assert.equal(summary.status, 'Failed');
  assert.equal(summary.restarts, 0);
  assert.match(summary.error!, /nowhere\.csv/);
  await rm(dir, { recursive: true, force: true });
});

test('when maxRestarts is spent the run fails with the stage, the cause and the last committed step', async () => {
  const { job, dir } = await workspace();
  let kills = 0;
  let lastKilledAt = -1;
  let resumed = false;
  // The first kill after a few checkpoints were committed, the second right after the resume.
  const result = await runCli(['train', job, '--json', '--set', 'spec.failurePolicy.maxRestarts=1'], (line, cliPid) => {
    if (line.includes('Resumed from step')) resumed = true;
    const step = progressStep(line);
    if (step === undefined || kills >= 2 || (kills === 0 ? step < 3 * EVERY : !resumed) || step === lastKilledAt) return;
    const [victim] = activeStagePids(cliPid);
    if (!victim) return;
    lastKilledAt = step;
    kills++;
    process.kill(victim, 'SIGKILL');
  });
  assert.equal(result.code, 1, `kills: ${kills}\n${result.stderr}`);
  const summary = parseSummary(result);
  assert.equal(summary.status, 'Failed');
  assert.match(summary.error!, /stage \d failed: killed by SIGKILL; not restarting: spec\.failurePolicy\.maxRestarts \(1\) is spent \(last committed checkpoint: step \d+\)/);
  await rm(dir, { recursive: true, force: true });
});
