// Freezing survives a restart exactly: a job whose first stage is frozen resumes from a checkpoint
// and ends with the digest of the uninterrupted run; its checkpoints hold the frozen weights but
// no optimizer slots for them; without gradient clipping too (the frozen stage is then held back by
// the norm handshake alone, norm-exchange.ts). Real stage processes (runLocal), cpu.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PipelineJob } from '../../../trainer/src/api/schema.ts';
import { loadLatestCommitted } from '../../../trainer/src/checkpoint/index.ts';
import { runLocal } from '../../../trainer/src/runner/local-runner.ts';
import type { ProgressReporter } from '../../../trainer/src/runner/progress-output.ts';
import { tinyMlpJob } from '../../support/tiny-jobs.ts';

const root = mkdtempSync(join(tmpdir(), 'pipetrain-freeze-resume-'));
after(() => rmSync(root, { recursive: true, force: true }));

const quiet: ProgressReporter = { step: () => undefined, info: () => undefined, warn: () => undefined, close: () => undefined };

/** The tiny MLP on 3 stages (2+2+2) with its first 3 layers frozen: stage 0 runs no backward. */
function job(dir: string, clipping = true): PipelineJob {
  const base = tinyMlpJob();
  const spec = {
    ...base,
    pipeline: { ...base.pipeline, stages: undefined, partition: [2, 2, 2] },
    training: {
      ...base.training,
      steps: 6,
      freeze: { layers: 3 },
      optimizer: { ...base.training.optimizer, type: 'adamw', weightDecay: 0.1 },
      gradientClipNorm: clipping ? base.training.gradientClipNorm : undefined,
    },
    checkpoint: { path: dir, everySteps: 2, keep: 10 },
  } as PipelineJob['spec'];
  return { apiVersion: 'pipetrain.io/v1alpha1', kind: 'PipelineJob', metadata: { name: 'frozen' }, spec } as PipelineJob;
}

void test('a job with a frozen first stage resumes from step 2 to the uninterrupted digest; no slots for frozen weights', { timeout: 120_000 }, async () => {
  const dir = join(root, 'uninterrupted');
  const uninterrupted = await runLocal({ job: job(dir), baseDir: root, reporter: quiet });
  assert.equal(uninterrupted.status, 'Succeeded', uninterrupted.error);

  const loaded = await loadLatestCommitted(dir, { layers: [0, 1, 2, 3, 4, 5], log: () => undefined });
  assert.ok(loaded);
  assert.equal(loaded.layers.get(0)!.weights.length, 2, 'the frozen dense layer is stored (kernel and bias)');
  assert.deepEqual(loaded.layers.get(0)!.slots, [], 'but has no optimizer slots');
  assert.deepEqual(loaded.layers.get(2)!.slots, []);
  assert.equal(loaded.layers.get(3)!.slots.length, 4, 'the LayerNorm trains: m and v of gamma and beta');

  const resumedDir = join(root, 'resumed');
  cpSync(dir, resumedDir, { recursive: true });
  for (const step of readdirSync(resumedDir).filter((name) => name.startsWith('step-') && name !== 'step-000000002')) rmSync(join(resumedDir, step), { recursive: true });
  const resumed = await runLocal({ job: job(resumedDir), baseDir: root, reporter: quiet });
  assert.equal(resumed.status, 'Succeeded', resumed.error);
  assert.equal(resumed.resumedFrom, 2);
  assert.equal(resumed.weightsSha256, uninterrupted.weightsSha256);
});

void test('without gradientClipNorm a frozen first stage runs and resumes too: the norm handshake holds it one step ahead', { timeout: 120_000 }, async () => {
  const dir = join(root, 'unclipped');
  const uninterrupted = await runLocal({ job: job(dir, false), baseDir: root, reporter: quiet });
  assert.equal(uninterrupted.status, 'Succeeded', uninterrupted.error);
  const resumedDir = join(root, 'unclipped-resumed');
  cpSync(dir, resumedDir, { recursive: true });
  for (const step of readdirSync(resumedDir).filter((name) => name.startsWith('step-') && name !== 'step-000000002')) rmSync(join(resumedDir, step), { recursive: true });
  const resumed = await runLocal({ job: job(resumedDir, false), baseDir: root, reporter: quiet });
  assert.equal(resumed.status, 'Succeeded', resumed.error);
  assert.equal(resumed.resumedFrom, 2);
  assert.equal(resumed.weightsSha256, uninterrupted.weightsSha256);
});
