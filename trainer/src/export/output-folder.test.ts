import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ExportError } from './export-error.ts';
import { writeOutputFolder } from './output-folder.ts';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'output-folder-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const files = [{ name: 'a.json', bytes: Buffer.from('{}') }, { name: 'b.bin', bytes: Buffer.from([1, 2, 3]) }];

test('writes every file into a new folder (and its missing parents), leaving no temporary folder', async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'deep', 'out');
  await writeOutputFolder(out, files, {});
  assert.deepEqual((await readdir(out)).sort(), ['a.json', 'b.bin']);
  assert.deepEqual(await readFile(join(out, 'b.bin')), Buffer.from([1, 2, 3]));
  assert.deepEqual(await readdir(join(dir, 'deep')), ['out']);
});

test('an empty folder is filled; a non-empty one is refused unless overwrite, which replaces it whole', async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'out');
  await mkdir(out);
  await writeOutputFolder(out, files, {});
  await assert.rejects(writeOutputFolder(out, files, {}), (e: Error) => e instanceof ExportError && e.message === `${out}: exists and is not empty; choose another --out, or add --overwrite to replace it`);
  await writeOutputFolder(out, [{ name: 'c.txt', bytes: Buffer.from('new') }], { overwrite: true });
  assert.deepEqual(await readdir(out), ['c.txt'], 'the old files are gone');
  assert.deepEqual(await readdir(dir), ['out']);
  const file = join(dir, 'file');
  await writeFile(file, 'x');
  await assert.rejects(writeOutputFolder(file, files, { overwrite: true }), /file: exists and is a file; give a folder path for --out/);
});

test('a failure while writing leaves nothing new, and an overwritten folder as it was', async (t) => {
  const dir = await tempDir(t);
  const broken = [...files, { name: 'no/such/sub/folder.bin', bytes: Buffer.from([0]) }];
  await assert.rejects(writeOutputFolder(join(dir, 'fresh'), broken, {}), { code: 'ENOENT' });
  assert.deepEqual(await readdir(dir), []);
  const out = join(dir, 'out');
  await writeOutputFolder(out, files, {});
  await assert.rejects(writeOutputFolder(out, broken, { overwrite: true }), { code: 'ENOENT' });
  assert.deepEqual((await readdir(out)).sort(), ['a.json', 'b.bin']);
  assert.deepEqual(await readdir(dir), ['out']);
});
