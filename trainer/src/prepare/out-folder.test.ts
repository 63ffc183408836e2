import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkOutFolder, createStaging, replaceOutFolder } from './out-folder.ts';

test('a new, empty or previously prepared folder is accepted; one with other files is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'out-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await checkOutFolder(join(dir, 'new'));
  await mkdir(join(dir, 'empty'));
  await checkOutFolder(join(dir, 'empty'));
  await mkdir(join(dir, 'prepared'));
  await writeFile(join(dir, 'prepared', 'meta.json'), '{"format":"pipetrain-tokens/1"}');
  await checkOutFolder(join(dir, 'prepared'));
  await mkdir(join(dir, 'home'));
  await writeFile(join(dir, 'home', 'thesis.tex'), 'precious');
  await assert.rejects(checkOutFolder(join(dir, 'home')), /^Error: --out .*home: the folder holds other files \(no meta\.json of a preparation\); give a new or empty folder$/);
});

test('the staging folder replaces the old output as a whole', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'out-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'tokens');
  await mkdir(out);
  await writeFile(join(out, 'train-00009.bin'), 'old');
  const staging = await createStaging(out);
  await writeFile(join(staging, 'meta.json'), 'new');
  await replaceOutFolder(staging, out);
  assert.deepEqual(await readdir(out), ['meta.json']);
  assert.equal(await readFile(join(out, 'meta.json'), 'utf8'), 'new');
  assert.deepEqual((await readdir(dir)).sort(), ['tokens']);
});
