// Opening another job's checkpoint as a weight source: the stages' open checks the commit record,
// the manifests and the layer sizes only (hashing every layer of a large source on every stage
// could outlast the resume agreement's timeout); `read` hashes what it loads; the CLI's full check
// takes the newest step that verifies in full, not the newest one.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tinyMlpJob } from '../../../test/support/tiny-jobs.ts';
import type { PipelineJob } from '../api/schema.ts';
import { layerFileName, stepDir } from '../checkpoint/layout.ts';
import { runLocal } from '../runner/local-runner.ts';
import type { ProgressReporter } from '../runner/progress-output.ts';
import { initBackend } from '../tf/backend.ts';
import { openCheckpointSource } from './checkpoint-source.ts';

const quiet: ProgressReporter = { step: () => undefined, info: () => undefined, warn: () => undefined, close: () => undefined };
const noLog = () => undefined;
let root: string;

before(async () => {
  await initBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'pipetrain-ckpt-source-'));
});
after(() => rm(root, { recursive: true, force: true }));

/** A source job saved at steps 1, 2 and 3 (one stage). */
async function trainSource(name: string): Promise<string> {
  const dir = join(root, name);
  const job = { apiVersion: 'pipetrain.io/v1alpha1', kind: 'PipelineJob', metadata: { name }, spec: { ...tinyMlpJob(), pipeline: { ...tinyMlpJob().pipeline, stages: 1 }, checkpoint: { path: dir, everySteps: 1, keep: 3 } } } as PipelineJob;
  const run = await runLocal({ job, baseDir: root, reporter: quiet });
  assert.equal(run.status, 'Succeeded', run.error);
  return dir;
}

/** Flips one byte near the end of a layer file: same size, other SHA-256 (only a hash finds it). */
async function corrupt(dir: string, step: number, layer: number): Promise<void> {
  const file = join(stepDir(dir, step), layerFileName(layer));
  const bytes = await readFile(file);
  bytes.writeUInt8(bytes.readUInt8(bytes.length - 2) ^ 0xff, bytes.length - 2);
  await writeFile(file, bytes);
}

test('opening does not hash layer files it does not read; read hashes the ones it loads', async () => {
  const dir = await trainSource('lazy');
  await corrupt(dir, 3, 0);
  const source = await openCheckpointSource(dir, { log: noLog });
  assert.equal(source.where, `${dir} (step 3)`);
  const { weights } = await source.read([2]);
  assert.ok([...weights.keys()].every((name) => name.startsWith('layer2_')) && weights.size > 0);
  await assert.rejects(source.read([0, 2]), /spec\.model\.from\.checkpoint: checkpoint step 3 in .* no longer verifies: .*layer.*SHA-256 does not match/);
});

test('the full check takes the newest step that verifies, newest first', async () => {
  const dir = await trainSource('newest');
  await corrupt(dir, 3, 2);
  const source = await openCheckpointSource(dir, { log: noLog, verify: 'full' });
  assert.equal(source.where, `${dir} (step 2)`);
  await corrupt(dir, 2, 0);
  await corrupt(dir, 1, 0);
  await assert.rejects(openCheckpointSource(dir, { log: noLog, verify: 'full' }), /spec\.model\.from\.checkpoint: no checkpoint in .* verifies \(step 3: .*\| step 2: .*\| step 1: .*\); train the source job again/);
});
