import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { tryCommit } from './commit.ts';
import { snapshot, tempDir, writeCheckpoint } from '../../../test/support/checkpoint-fixtures.ts';
import { COMMIT_FILE, stepDir } from './layout.ts';
import { CommitRecordSchema } from './manifest.ts';
import { CheckpointWriter } from './writer.ts';

void test('a step commits only once every stage has written its part', async (t) => {
  const dir = await tempDir(t);
  await new CheckpointWriter(dir).save(snapshot(10, 0, [2, 3]));
  assert.equal(await tryCommit(dir, 10, 2), false);
  await new CheckpointWriter(dir).save(snapshot(10, 1, [2, 3]));
  assert.equal(await tryCommit(dir, 10, 2), true);
  assert.equal(await tryCommit(dir, 10, 3), false, 'not as a 3-stage checkpoint');
  const record = CommitRecordSchema.parse(JSON.parse(await readFile(path.join(stepDir(dir, 10), COMMIT_FILE), 'utf8')));
  assert.deepEqual([record.step, record.stages, record.partition, record.manifests.map((m) => m.file)], [10, 2, [2, 3], ['stage-1-of-2.json', 'stage-2-of-2.json']]);
  assert.equal(await tryCommit(dir, 11, 2), false, 'no folder at all');
});

void test('many concurrent tryCommit calls in this process and in 3 other processes agree and leave one identical record', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 20, [1, 2, 2], { commit: false });
  const url = pathToFileURL(path.join(import.meta.dirname, 'commit.ts')).href;
  const script = `import { tryCommit } from ${JSON.stringify(url)}; process.stdout.write(String(await tryCommit(${JSON.stringify(dir)}, 20, 3)));`;
  const run = promisify(execFile);
  const children = [1, 2, 3].map(() => run(process.execPath, ['--input-type=module', '-e', script]).then((r) => r.stdout === 'true'));
  const local = Array.from({ length: 8 }, () => tryCommit(dir, 20, 3));
  assert.deepEqual(await Promise.all([...local, ...children]), Array(11).fill(true));
  const folder = stepDir(dir, 20);
  assert.deepEqual((await readdir(folder)).filter((f) => f.startsWith('.')), [], 'no temporary files left');
  const before = await readFile(path.join(folder, COMMIT_FILE));
  assert.equal(await tryCommit(dir, 20, 3), true);
  assert.ok(before.equals(await readFile(path.join(folder, COMMIT_FILE))), 'committing again changes nothing');
});

void test('a part whose layer file is corrupt is not committed', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 30, [5], { commit: false });
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path.join(stepDir(dir, 30), 'layer-0002.bin'), 'garbage');
  assert.equal(await tryCommit(dir, 30, 1), false);
});
