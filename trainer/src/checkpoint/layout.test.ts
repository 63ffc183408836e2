import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../../../test/support/checkpoint-fixtures.ts';
import { layerFileName, listStepFolders, manifestFileName, stageLayers, stepDirName } from './layout.ts';

void test('names: zero-padded steps and layers, ordinal stage manifests', () => {
  assert.equal(stepDirName(120), 'step-000000120');
  assert.equal(layerFileName(3), 'layer-0003.bin');
  assert.equal(manifestFileName(0, 4), 'stage-1-of-4.json');
  assert.deepEqual(stageLayers([2, 2, 1], 1), [2, 3]);
});

void test('listStepFolders: step folders only, newest first, [] for a missing folder', async (t) => {
  const dir = await tempDir(t);
  for (const name of ['step-000000009', 'step-000000120', 'step-1234567890', '.deleting-step-000000001-1-x']) await mkdir(path.join(dir, name));
  await writeFile(path.join(dir, 'notes.txt'), '');
  assert.deepEqual(await listStepFolders(dir), [1234567890, 120, 9]);
  assert.deepEqual(await listStepFolders(path.join(dir, 'absent')), []);
});
