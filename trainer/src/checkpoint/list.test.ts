import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { tempDir, writeCheckpoint } from '../../../test/support/checkpoint-fixtures.ts';
import { layerFileName, manifestFileName, stepDir } from './layout.ts';
import { listCheckpoints, listUncommitted } from './list.ts';

void test('lists committed checkpoints newest first with size, stages, backend and verification', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 10, [5]);
  await writeCheckpoint(dir, 20, [2, 2, 1]);
  await writeCheckpoint(dir, 30, [2, 3], { commit: false });
  const list = await listCheckpoints(dir);
  assert.deepEqual(list.map((c) => [c.step, c.stages, c.partition, c.backend, c.verified, c.problems]), [
    [20, 3, [2, 2, 1], 'cpu', true, []],
    [10, 1, [5], 'cpu', true, []],
  ]);
  assert.ok(list[0]!.bytes > 5 * 100 && !Number.isNaN(Date.parse(list[0]!.committedAt)));
  assert.deepEqual(await listUncommitted(dir), [30]);
  assert.deepEqual(await listCheckpoints(path.join(dir, 'absent')), []);
});

void test('problems are listed per file; verify:false checks sizes only', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 10, [2, 3]);
  await writeCheckpoint(dir, 20, [2, 3]);
  const flipped = path.join(stepDir(dir, 20), layerFileName(4));
  const handle = await open(flipped, 'r+');
  await handle.write(Buffer.from([0x55]), 0, 1, 150);
  await handle.close();
  await rm(path.join(stepDir(dir, 10), manifestFileName(0, 2)));
  assert.deepEqual((await listCheckpoints(dir)).map((c) => [c.step, c.verified, c.problems]), [
    [20, false, [`${flipped}: SHA-256 does not match the manifest`]],
    [10, false, [`${path.join(stepDir(dir, 10), manifestFileName(0, 2))}: missing`]],
  ]);
  assert.deepEqual((await listCheckpoints(dir, { verify: false })).map((c) => c.verified), [true, false]);
});
