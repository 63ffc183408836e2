// End to end: `pipetrain train --json` starts real stage processes that talk over loopback
// WebSockets; its digest must equal single-process training of the same job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadJobData } from '../../../trainer/src/data/load.ts';
import { loadPipelineJobFile } from '../../../trainer/src/api/load.ts';
import { initBackend } from '../../../trainer/src/tf/backend.ts';
import { weightsDigest } from '../../../trainer/src/train/digest.ts';
import { trainSingleProcess } from '../../../trainer/src/train/reference.ts';

const CLI = fileURLToPath(new URL('../../../trainer/bin/pipetrain.js', import.meta.url));
const JOB = fileURLToPath(new URL('../../fixtures/tiny-job.yaml', import.meta.url));

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Summary {
  status: string; steps: number; loss: number; valAccuracy: number; samplesPerSecond: number; weightsSha256: string; partition: number[]; error?: string;
}

test('train --json: a 3-stage pipeline of processes matches single-process training', async () => {
  const { code, stdout, stderr } = await runCli(['train', JOB, '--json']);
  assert.equal(code, 0, stderr);
  const summary = JSON.parse(stdout.trim()) as Summary;
  assert.equal(summary.status, 'Succeeded');
  assert.equal(summary.steps, 12);
  assert.ok(Number.isFinite(summary.loss) && summary.loss > 0);
  assert.ok(summary.valAccuracy >= 0 && summary.valAccuracy <= 1);
  assert.ok(summary.samplesPerSecond > 0);
  assert.match(summary.weightsSha256, /^[0-9a-f]{64}$/);
  assert.equal(summary.partition.length, 3);
  assert.match(stderr, /step 4\/12 loss/);

  await initBackend('cpu');
  const loaded = await loadPipelineJobFile(JOB);
  assert.ok(loaded.ok);
  const reference = await trainSingleProcess(loaded.job.spec, await loadJobData(loaded.job.spec));
  assert.equal(summary.weightsSha256, weightsDigest(reference.weights));
});

test('--set changes the partition but not the weights', async () => {
  const { code, stdout, stderr } = await runCli(['train', JOB, '--json', '--set', 'spec.pipeline.stages=2', '--set', 'spec.pipeline.schedule=GPipe', '--log-format', 'json']);
  assert.equal(code, 0, stderr);
  const summary = JSON.parse(stdout.trim()) as Summary;
  assert.equal(summary.partition.length, 2);
  const three = JSON.parse((await runCli(['train', JOB, '--json'])).stdout.trim()) as Summary;
  assert.equal(summary.weightsSha256, three.weightsSha256);
  for (const line of stderr.trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
});

test('an invalid job file is refused before anything runs', async () => {
  const { code, stderr } = await runCli(['train', JOB, '--set', 'spec.pipeline.microBatches=0']);
  assert.equal(code, 1);
  assert.match(stderr, /spec\.pipeline\.microBatches/);
  assert.match(stderr, /nothing was run/);
});

test('a missing data file fails with a message naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pipetrain-e2e-'));
  const job = join(dir, 'job.yaml');
  await writeFile(job, (await import('node:fs')).readFileSync(JOB, 'utf8').replace(
    '{ type: synthetic, seed: 3, samples: 400, featureShape: [12], classes: 4 }', '{ type: file, path: missing.csv, format: csv }'));
  const { code, stdout, stderr } = await runCli(['train', job, '--json']);
  assert.equal(code, 1);
  assert.match(stderr, /missing\.csv/);
  assert.equal((JSON.parse(stdout.trim()) as Summary).status, 'Failed');
});
