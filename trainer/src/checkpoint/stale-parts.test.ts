import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir, writeCheckpoint } from '../../../test/support/checkpoint-fixtures.ts';
import { manifestFileName, stepDir } from './layout.ts';
import { discardStaleParts } from './stale-parts.ts';
import { tryCommit } from './commit.ts';

const present = (file: string) => access(file).then(() => true, () => false);

void test("a restarted stage removes only its own parts of uncommitted steps after the one it resumed from", async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 4, [2, 3]);
  await writeCheckpoint(dir, 8, [2, 3], { commit: false });
  await writeCheckpoint(dir, 12, [2, 3], { commit: false });
  await writeCheckpoint(dir, 2, [2, 3], { commit: false });
  assert.deepEqual(await discardStaleParts(dir, 4, 0, 2), [12, 8]);
  for (const step of [8, 12]) {
    assert.equal(await present(path.join(stepDir(dir, step), manifestFileName(0, 2))), false, `step ${step}, stage 1`);
    assert.equal(await present(path.join(stepDir(dir, step), manifestFileName(1, 2))), true, `step ${step}, stage 2`);
    // The neighbour's part alone cannot commit the step any more.
    assert.equal(await tryCommit(dir, step, 2), false);
  }
  // Committed steps and steps at or before the resumed one are left alone.
  assert.equal(await present(path.join(stepDir(dir, 4), manifestFileName(0, 2))), true);
  assert.equal(await present(path.join(stepDir(dir, 2), manifestFileName(0, 2))), true);
  assert.deepEqual(await discardStaleParts(path.join(dir, 'absent'), 0, 0, 2), []);
  // A plain file in a step folder's place is no part, and no error.
  await writeFile(stepDir(dir, 16), 'in the way');
  assert.deepEqual(await discardStaleParts(dir, 4, 0, 2), [16, 12, 8]);
});
