// A job started from another job's checkpoint (spec.model.from) records the source's identity in
// its own checkpoints, so a resume neither opens nor needs the source: it may have been pruned or
// deleted since. A job whose spec.model.from names another source is still another run.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tinyMlpJob } from '../../../test/support/tiny-jobs.ts';
import type { PipelineJob, PipelineJobSpec } from '../api/schema.ts';
import { COMMIT_FILE, manifestFileName } from '../checkpoint/index.ts';
import { stepDir } from '../checkpoint/layout.ts';
import { runLocal } from '../runner/local-runner.ts';
import type { ProgressReporter } from '../runner/progress-output.ts';
import { initBackend } from '../tf/backend.ts';
import { sha256Bytes } from '../checkpoint/hash.ts';

const quiet: ProgressReporter = { step: () => undefined, info: () => undefined, warn: () => undefined, close: () => undefined };
let root: string;

before(async () => {
  await initBackend('cpu');
  root = await mkdtemp(join(tmpdir(), 'pipetrain-resume-source-'));
});
after(() => rm(root, { recursive: true, force: true }));

function job(name: string, extra: Partial<PipelineJobSpec>): PipelineJob {
  const spec = { ...tinyMlpJob(), pipeline: { ...tinyMlpJob().pipeline, stages: 2 }, ...extra } as PipelineJobSpec;
  return { apiVersion: 'pipetrain.io/v1alpha1', kind: 'PipelineJob', metadata: { name }, spec } as PipelineJob;
}

async function run(j: PipelineJob) {
  return runLocal({ job: j, baseDir: root, reporter: quiet });
}

test('a resume takes the source identity from the job\'s own checkpoint: the source may be gone; another source is another run', async () => {
  const source = join(root, 'a');
  assert.equal((await run(job('a', { checkpoint: { path: source, everySteps: 3, keep: 3 } }))).status, 'Succeeded');
  const sourceSha = await sha256Bytes(await readFile(join(stepDir(source, 3), COMMIT_FILE)));
  const copy = join(root, 'a-copy');
  await cp(source, copy, { recursive: true });
  const fromSource = (path: string) => ({ ...tinyMlpJob().model, from: { checkpoint: { path } } });
  const own = join(root, 'b');
  const b = job('b', { model: fromSource(source), checkpoint: { path: own, everySteps: 3, keep: 3 } });
  const first = await run(b);
  assert.equal(first.status, 'Succeeded', first.error);
  const manifest = JSON.parse(await readFile(join(stepDir(own, 3), manifestFileName(1, 2)), 'utf8')) as { source?: unknown };
  assert.deepEqual(manifest.source, { kind: 'checkpoint', checksum: sourceSha });

  // The source job's folder is deleted: the resume (nothing left to train) still succeeds.
  await rm(source, { recursive: true });
  const resumed = await run(b);
  assert.equal(resumed.status, 'Succeeded', resumed.error);
  assert.equal(resumed.weightsSha256, first.weightsSha256);

  // The same weights under another path are another spec.model.from: another run.
  const other = await run(job('b', { model: fromSource(copy), checkpoint: { path: own, everySteps: 3, keep: 3 } }));
  assert.equal(other.status, 'Failed');
  assert.match(other.error ?? '', /was written for a different run/);
});
