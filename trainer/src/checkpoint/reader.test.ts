import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { bits, layerState, SPEC_HASH, snapshot, tempDir, writeCheckpoint } from '../../../test/support/checkpoint-fixtures.ts';
import { layerFileName, manifestFileName, stepDir } from './layout.ts';
import { CheckpointMismatchError, latestCommittedStep, loadLatestCommitted } from './reader.ts';
import type { LogLevel } from './types.ts';

const ALL = [0, 1, 2, 3, 4];

/** A log sink collecting warnings. */
function sink(): { lines: string[]; log: (level: LogLevel, message: string) => void } {
  const lines: string[] = [];
  return { lines, log: (level, message) => lines.push(`${level}: ${message}`) };
}

function assertLayersExact(loaded: Map<number, { weights: { name: string; data: Float32Array }[]; slots: { name: string; data: Float32Array }[] }>, step: number, indices: number[]): void {
  assert.deepEqual([...loaded.keys()].sort((a, b) => a - b), indices);
  for (const index of indices) {
    const expected = layerState(index, step);
    const got = loaded.get(index)!;
    for (const role of ['weights', 'slots'] as const) {
      assert.deepEqual(got[role].map((t) => t.name), expected[role].map((t) => t.name));
      got[role].forEach((t, i) => assert.deepEqual(bits(t.data), bits(expected[role][i]!.data), `${t.name} bit for bit`));
    }
  }
}

async function flipByte(file: string, at: number): Promise<void> {
  const handle = await open(file, 'r+');
  const byte = Buffer.alloc(1);
  await handle.read(byte, 0, 1, at);
  byte[0] = byte[0]! ^ 0x01;
  await handle.write(byte, 0, 1, at);
  await handle.close();
}

void test('a 3-stage checkpoint round-trips exactly: tensors, float64 scalars, data position, metadata', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 37, [2, 2, 1]);
  const loaded = await loadLatestCommitted(dir, { layers: ALL, specHash: SPEC_HASH });
  assert.ok(loaded);
  assert.equal(loaded.step, 37);
  assertLayersExact(loaded.layers, 37, ALL);
  assert.deepEqual(loaded.optimizer, { type: 'adam', scalars: { beta1Power: 0.9 ** 37, beta2Power: 0.999 ** 37 } });
  assert.ok(Object.is(loaded.optimizer.scalars.beta1Power, 0.9 ** 37), 'beta1Power is the same double');
  assert.deepEqual(loaded.data, { epoch: 3, offset: 7 });
  assert.deepEqual([loaded.backend, loaded.seed, loaded.specHash, loaded.jobName, loaded.partition], ['cpu', 42, SPEC_HASH, 'tiny', [2, 2, 1]]);
});

void test('a checkpoint written by 2 stages loads into one reader or into 3 readers of another partition', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 5, [3, 2]);
  assertLayersExact((await loadLatestCommitted(dir, { layers: ALL }))!.layers, 5, ALL);
  for (const layers of [[0], [1, 2, 3], [4]]) assertLayersExact((await loadLatestCommitted(dir, { layers }))!.layers, 5, layers);
});

void test('an uncommitted step is ignored, even when all its parts are there', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 10, [2, 3]);
  await writeCheckpoint(dir, 20, [2, 3], { commit: false });
  assert.equal(await latestCommittedStep(dir), 10);
  assert.equal((await loadLatestCommitted(dir, { layers: [0] }))!.step, 10);
});

void test('no checkpoint, or a missing folder, gives undefined', async (t) => {
  const dir = await tempDir(t);
  assert.equal(await loadLatestCommitted(dir, { layers: [0] }), undefined);
  assert.equal(await loadLatestCommitted(path.join(dir, 'absent'), { layers: [0] }), undefined);
  assert.equal(await latestCommittedStep(path.join(dir, 'absent')), undefined);
});

void test('a flipped byte in a layer file skips that checkpoint with a warning naming the file; the previous one loads', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 10, [2, 3]);
  await writeCheckpoint(dir, 20, [2, 3]);
  const bad = path.join(stepDir(dir, 20), layerFileName(3));
  await flipByte(bad, 200);
  const { lines, log } = sink();
  // Stage 0 does not load layer 3, yet skips step 20 too: all stages must resume from the same step.
  const loaded = await loadLatestCommitted(dir, { layers: [0, 1], log });
  assert.equal(loaded?.step, 10);
  assertLayersExact(loaded.layers, 10, [0, 1]);
  assert.deepEqual(lines, [`warn: checkpoint step 20 skipped: ${bad}: SHA-256 does not match the manifest`]);
  assert.equal(await latestCommittedStep(dir), 20, 'latestCommittedStep does not verify');
});

void test('a deleted stage manifest skips that checkpoint likewise', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 10, [2, 3]);
  await writeCheckpoint(dir, 20, [2, 3]);
  const gone = path.join(stepDir(dir, 20), manifestFileName(1, 2));
  await rm(gone);
  const { lines, log } = sink();
  assert.equal((await loadLatestCommitted(dir, { layers: ALL, log }))?.step, 10);
  assert.deepEqual(lines, [`warn: checkpoint step 20 skipped: ${gone}: missing`]);
});

void test('a deleted layer file or a truncated commit record skips the checkpoint; none left gives undefined', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 10, [5]);
  await writeCheckpoint(dir, 20, [5]);
  await rm(path.join(stepDir(dir, 20), layerFileName(0)));
  const record = await open(path.join(stepDir(dir, 10), 'COMMITTED.json'), 'r+');
  await record.truncate(10);
  await record.close();
  const { lines, log } = sink();
  assert.equal(await loadLatestCommitted(dir, { layers: [0], log }), undefined);
  assert.match(lines[0]!, /step 20 skipped: .*layer-0000\.bin: missing$/);
  assert.match(lines[1]!, /step 10 skipped: .*COMMITTED\.json: not valid JSON$/);
});

void test('a checkpoint of another model is refused with a clear message', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 10, [2, 3]);
  await assert.rejects(loadLatestCommitted(dir, { layers: [0], specHash: 'b'.repeat(64) }), {
    name: 'CheckpointMismatchError',
    message: `checkpoint step 10 in ${dir} was written for a different model (spec sha256 aaaaaaaaaaaa…, this job's is bbbbbbbbbbbb…); start fresh or use another checkpoint path`,
  });
  await assert.rejects(loadLatestCommitted(dir, { layers: [4, 5, 6] }), (error: unknown) => {
    assert.ok(error instanceof CheckpointMismatchError);
    assert.equal(error.message, `checkpoint step 10 in ${dir} has 5 layers; cannot load layer(s) 5, 6`);
    return true;
  });
});

void test('stages that disagree (e.g. on the data position) make the step invalid', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 10, [5]);
  const { CheckpointWriter } = await import('./writer.ts');
  const { tryCommit } = await import('./commit.ts');
  await new CheckpointWriter(dir).save(snapshot(20, 0, [2, 3]));
  await new CheckpointWriter(dir).save(snapshot(20, 1, [2, 3], { data: { epoch: 9, offset: 9 } }));
  assert.equal(await tryCommit(dir, 20, 2), false);
  assert.equal((await loadLatestCommitted(dir, { layers: [0] }))?.step, 10);
});
