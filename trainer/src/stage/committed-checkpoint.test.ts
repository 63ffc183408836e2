import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CheckpointWriter, type StageSnapshot } from '../checkpoint/index.ts';
import { watchCommits, type CommittedCheckpoint } from './committed-checkpoint.ts';

const part = (step: number, stage: number): StageSnapshot => ({
  jobName: 'j', step, stage, stages: 2, partition: [1, 1],
  layers: [{ layerIndex: stage, weights: [{ name: `layer${stage}/kernel`, shape: [2], data: Float32Array.from([step, stage]) }], slots: [] }],
  optimizer: { type: 'sgd', scalars: {} }, data: { epoch: 0, offset: step }, backend: 'cpu', seed: 1, specHash: 'h',
});

test('a stage that did not write the commit record learns of the commit, with the step and time of that record', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'commits-'));
  const seen: CommittedCheckpoint[] = [];
  const watch = watchCommits(dir, { intervalMs: 60_000, onCommit: (c) => seen.push(c) });
  try {
    // Stage 0 writes first (no commit yet); stage 1 completes the step and commits it.
    const result0 = await new CheckpointWriter(dir, { autoCommit: true }).save(part(20, 0));
    assert.equal(result0.ok && result0.info.committed, false);
    await watch.refresh();
    assert.equal(watch.latest(), undefined);
    const result1 = await new CheckpointWriter(dir, { autoCommit: true }).save(part(20, 1));
    assert.equal(result1.ok && result1.info.committed, true);
    await watch.refresh();
    const record = await readFile(path.join(dir, 'step-000000020', 'COMMITTED.json'), 'utf8');
    assert.deepEqual(watch.latest(), { step: 20, committedAt: (JSON.parse(record) as { committedAt: string }).committedAt });
    assert.equal(seen.length, 1);
    await watch.refresh();
    assert.equal(seen.length, 1, 'reported once per commit');
  } finally {
    watch.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
