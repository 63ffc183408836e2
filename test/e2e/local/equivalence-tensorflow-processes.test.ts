// The tensorflow backend across processes: `pipetrain train` forks one process per stage, each of
// which must use the TensorFlow thread settings the single-process reference uses, or a CNN's bits
// differ (TensorFlow shards a convolution by its intra-op thread count). Skipped, with the setup
// command, when the binding is not set up.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadJobData } from '../../../trainer/src/data/load.ts';
import { initBackend } from '../../../trainer/src/tf/backend.ts';
import { tensorflowSkip } from '../../support/tensorflow.ts';
import { weightsDigest } from '../../../trainer/src/train/digest.ts';
import { trainSingleProcess } from '../../../trainer/src/train/reference.ts';
import { tinyConvJob } from '../../support/tiny-jobs.ts';
import { CLI, parseSummary, type CliResult } from './cli-runner.ts';

const skip = tensorflowSkip();
const dir = mkdtempSync(join(tmpdir(), 'pipetrain-tf-processes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const base = tinyConvJob();
const spec = { ...base, pipeline: { ...base.pipeline, stages: 3, microBatches: 4, schedule: '1F1B' as const }, training: { ...base.training, backend: 'tensorflow' as const, steps: 3 } };
const jobFile = join(dir, 'conv-job.json'); // JSON is YAML
writeFileSync(jobFile, JSON.stringify({ apiVersion: 'pipetrain.io/v1alpha1', kind: 'PipelineJob', metadata: { name: 'tiny-conv' }, spec }));

function train(env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'train', jobFile, '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('3 stage processes on tensorflow give the CNN weights of single-process training; another intra-op thread count does not', { skip }, async () => {
  await initBackend('tensorflow'); // pins the thread settings in this process, as a stage does
  const reference = weightsDigest((await trainSingleProcess(spec, await loadJobData(spec))).weights);
  const threads = process.env.TF_NUM_INTRAOP_THREADS!;
  const [pinned, other] = await Promise.all([train({}), train({ TF_NUM_INTRAOP_THREADS: String(Number(threads) + 1) })]);
  const summary = parseSummary(pinned);
  assert.equal(pinned.code, 0, pinned.stderr);
  assert.match(pinned.stderr, /^Backend: tensorflow/m);
  assert.equal(summary.weightsSha256, reference);
  // The control: with one more thread in every stage the bits change, so the pinning is what makes them equal.
  assert.equal(other.code, 0, other.stderr);
  assert.notEqual(parseSummary(other).weightsSha256, reference, `a CNN trained with ${Number(threads) + 1} intra-op threads should not match ${threads}`);
});
