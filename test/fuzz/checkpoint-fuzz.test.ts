// Damaged checkpoints: the reader returns exactly the weights of the step it names, or skips with
// a warning naming the file, or refuses another run's checkpoint; and `pipetrain train`'s runner,
// resuming from a damaged store, ends with the digest of the uninterrupted run or refuses.
// 100 reader cases here; the bench runs 2000 (test/bench/fuzz-bench.ts).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PipelineJob } from '../../trainer/src/api/schema.ts';
import { runLocal } from '../../trainer/src/runner/local-runner.ts';
import type { ProgressReporter } from '../../trainer/src/runner/progress-output.ts';
import { runCheckpointFuzz } from '../support/fuzz/checkpoint-fuzz.ts';
import { createRng, fuzzSeed, replayHint } from '../support/fuzz/rng.ts';
import { tinyMlpJob } from '../support/tiny-jobs.ts';

const seed = fuzzSeed();
const hint = replayHint(seed, 'node test/run-tests.js test/fuzz/checkpoint-fuzz');
const root = mkdtempSync(join(tmpdir(), 'pipetrain-resume-fuzz-'));
after(() => rmSync(root, { recursive: true, force: true }));

void test('100 damaged checkpoint stores: exact weights of the named step, a warning naming the file, or a refusal', async (t) => {
  t.diagnostic(hint);
  const result = await runCheckpointFuzz(seed, 100);
  t.diagnostic(JSON.stringify(result));
  assert.deepEqual(result.failures, [], hint);
  assert.equal(result.cases, 100, hint);
});

const quiet: ProgressReporter = { step: () => undefined, info: () => undefined, warn: () => undefined, close: () => undefined };

function job(name: string, dataSeed: number, dir: string): PipelineJob {
  const base = tinyMlpJob();
  const spec = {
    ...base,
    data: { ...base.data, dataset: { ...base.data.dataset, seed: dataSeed } as typeof base.data.dataset },
    training: { ...base.training, steps: 6 },
    checkpoint: { path: dir, everySteps: 2, keep: 10 },
  } as PipelineJob['spec'];
  return { apiVersion: 'pipetrain.io/v1alpha1', kind: 'PipelineJob', metadata: { name }, spec } as PipelineJob;
}

const stepDirs = (dir: string) => readdirSync(dir).filter((name) => name.startsWith('step-')).sort();

void test('resuming from a damaged store ends with the uninterrupted digest, or refuses another run', async (t) => {
  t.diagnostic(hint);
  const [dirA, dirB] = [join(root, 'a'), join(root, 'b')];
  const uninterrupted = await runLocal({ job: job('a', 3, dirA), baseDir: root, reporter: quiet });
  // Job b: the same model, seed and optimizer, other data. Its checkpoints are not job a's.
  const other = await runLocal({ job: job('b', 4, dirB), baseDir: root, reporter: quiet });
  assert.equal(uninterrupted.status, 'Succeeded', uninterrupted.error);
  assert.equal(other.status, 'Succeeded', other.error);
  assert.notEqual(other.weightsSha256, uninterrupted.weightsSha256);
  assert.deepEqual(stepDirs(dirA), ['step-000000002', 'step-000000004', 'step-000000006']);
  const rng = createRng(seed).fork(7);
  const damages: Array<{ label: string; apply(dir: string): void }> = [
    // Before runSpecHash covered the data, this resumed job a from job b's weights.
    { label: 'the newest step folder from the other job', apply: (dir) => {
      rmSync(join(dir, 'step-000000006'), { recursive: true });
      cpSync(join(dirB, 'step-000000006'), join(dir, 'step-000000006'), { recursive: true });
    } },
    { label: 'a bit flipped in a layer file of the newest step', apply: (dir) => {
      const file = join(dir, 'step-000000006', rng.pick(readdirSync(join(dir, 'step-000000006')).filter((n) => n.endsWith('.bin'))));
      const bytes = readFileSync(file);
      bytes[rng.int(bytes.length)]! ^= 1 << rng.int(8);
      writeFileSync(file, bytes);
    } },
    { label: 'the newest two steps truncated or without their manifests', apply: (dir) => {
      writeFileSync(join(dir, 'step-000000006', 'stage-2-of-2.json'), '{');
      rmSync(join(dir, 'step-000000004', 'stage-1-of-2.json'));
    } },
  ];
  for (const damage of damages) {
    const dir = join(root, `case-${damages.indexOf(damage)}`);
    cpSync(dirA, dir, { recursive: true });
    damage.apply(dir);
    const resumed = await runLocal({ job: job('a', 3, dir), baseDir: root, reporter: quiet });
    t.diagnostic(`${damage.label}: ${resumed.status}, resumed from ${resumed.resumedFrom}${resumed.error ? `: ${resumed.error}` : ''}`);
    if (resumed.status === 'Succeeded') assert.equal(resumed.weightsSha256, uninterrupted.weightsSha256, `${damage.label} (${hint})`);
    else assert.match(resumed.error ?? '', /written for a different run/, `${damage.label}: an explicit refusal (${hint})`);
  }
});
