import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic.ts';
import { tempDir } from '../../../test/support/checkpoint-fixtures.ts';
import { sha256File } from './hash.ts';

void test('writes the chunks in order, returns their size and SHA-256, and leaves no temporary file', async (t) => {
  const dir = await tempDir(t);
  const chunks = [Buffer.from('head'), new Uint8Array(3 << 20).fill(7), Buffer.from('tail')];
  await writeFile(path.join(dir, 'f.bin'), 'old content');
  const result = await writeFileAtomic(dir, 'f.bin', chunks);
  const content = await readFile(path.join(dir, 'f.bin'));
  assert.ok(content.equals(Buffer.concat(chunks)));
  assert.deepEqual(result, { bytes: content.length, sha256: createHash('sha256').update(content).digest('hex') });
  assert.deepEqual(await sha256File(path.join(dir, 'f.bin')), result);
  assert.deepEqual(await readdir(dir), ['f.bin']);
});

void test('a failed rename keeps the old file, removes the temporary one and rejects', async (t) => {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, 'taken', 'inside'), { recursive: true });
  await assert.rejects(writeFileAtomic(dir, 'taken', [Buffer.from('x')]), /EISDIR|ENOTEMPTY|EEXIST/);
  assert.deepEqual(await readdir(dir), ['taken']);
});

void test('a folder under a file rejects with ENOTDIR', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'afile'), '');
  await assert.rejects(writeFileAtomic(path.join(dir, 'afile'), 'x', [Buffer.from('x')]), { code: 'ENOTDIR' });
});
