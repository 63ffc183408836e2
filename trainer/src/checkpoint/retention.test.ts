import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { tempDir, writeCheckpoint } from '../../../test/support/checkpoint-fixtures.ts';
import { layerFileName, listStepFolders, stepDir } from './layout.ts';
import { applyRetention } from './retention.ts';

async function corrupt(dir: string, step: number): Promise<void> {
  const handle = await open(path.join(stepDir(dir, step), layerFileName(0)), 'r+');
  await handle.write(Buffer.from([0xff, 0xff]), 0, 2, 100);
  await handle.close();
}

void test('keeps the newest `keep` committed checkpoints and removes older folders, committed or not', async (t) => {
  const dir = await tempDir(t);
  for (const step of [10, 20, 30, 40]) await writeCheckpoint(dir, step, [2, 3]);
  await writeCheckpoint(dir, 15, [2, 3], { commit: false });
  await writeCheckpoint(dir, 50, [2, 3], { commit: false }); // being written: newer than the newest committed
  assert.deepEqual(await applyRetention(dir, 2), [20, 15, 10]);
  assert.deepEqual(await listStepFolders(dir), [50, 40, 30]);
  assert.deepEqual(await applyRetention(dir, 2), [], 'nothing more to do');
  assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.')), [], 'no .deleting- leftovers');
});

void test('a corrupt newest checkpoint does not count: the one a restart would load is kept', async (t) => {
  const dir = await tempDir(t);
  for (const step of [10, 20, 30]) await writeCheckpoint(dir, step, [5]);
  await corrupt(dir, 30);
  assert.deepEqual(await applyRetention(dir, 1), [10]);
  assert.deepEqual(await listStepFolders(dir), [30, 20], 'the corrupt 30 stays (a resumed run rewrites it), 20 is kept');
});

void test('nothing is removed when no committed checkpoint verifies, and keep must be >= 1', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 10, [5]);
  await writeCheckpoint(dir, 5, [5], { commit: false });
  await corrupt(dir, 10);
  assert.deepEqual(await applyRetention(dir, 1), []);
  assert.deepEqual(await listStepFolders(dir), [10, 5]);
  await assert.rejects(applyRetention(dir, 0), { name: 'TypeError', message: 'keep must be an integer >= 1; got 0.' });
});

void test('several processes applying retention at once each remove a folder at most once', async (t) => {
  const dir = await tempDir(t);
  for (const step of [10, 20, 30, 40, 50]) await writeCheckpoint(dir, step, [1, 4]);
  const removed = (await Promise.all(Array.from({ length: 4 }, () => applyRetention(dir, 2)))).flat().sort((a, b) => a - b);
  assert.deepEqual(removed, [10, 20, 30]);
  assert.deepEqual(await listStepFolders(dir), [50, 40]);
});
