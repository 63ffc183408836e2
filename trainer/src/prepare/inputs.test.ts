import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveInputs } from './inputs.ts';

async function corpus(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'inputs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'books', 'deep'), { recursive: true });
  await mkdir(join(dir, 'books', '.git'));
  await writeFile(join(dir, 'books', 'b.txt'), 'bb');
  await writeFile(join(dir, 'books', 'a.md'), 'a');
  await writeFile(join(dir, 'books', 'deep', 'c.jsonl'), '{"text":"c"}\n');
  await writeFile(join(dir, 'books', 'image.png'), 'png');
  await writeFile(join(dir, 'books', '.git', 'x.txt'), 'x');
  await writeFile(join(dir, 'one.txt'), 'one');
  return dir;
}

test('files as given, folders recursively and sorted, each file once, with kind and size', async (t) => {
  const dir = await corpus(t);
  const files = await resolveInputs(['one.txt', 'books', 'books/b.txt'], dir);
  assert.deepEqual(files.map((f) => [f.name, f.kind, f.bytes]), [
    ['one.txt', 'text', 3],
    ['books/a.md', 'text', 1],
    ['books/b.txt', 'text', 2],
    ['books/deep/c.jsonl', 'jsonl', 13],
  ]);
  assert.equal(files[0]!.path, join(dir, 'one.txt'));
});

test('globs expand relative to the base folder', async (t) => {
  const dir = await corpus(t);
  const files = await resolveInputs(['books/**/*.jsonl', '*.txt'], dir);
  assert.deepEqual(files.map((f) => f.name), ['books/deep/c.jsonl', 'one.txt']);
});

test('a missing path, an empty glob and a folder without text name the input', async (t) => {
  const dir = await corpus(t);
  await mkdir(join(dir, 'empty'));
  await assert.rejects(resolveInputs(['missing.txt'], dir, '--input'), /^Error: --input missing\.txt: no such file or folder \(ENOENT\) \(looked for .*missing\.txt\)$/);
  await assert.rejects(resolveInputs(['*.csv'], dir, '--input'), /--input \*\.csv: no file matches this glob/);
  await assert.rejects(resolveInputs(['empty'], dir, '--input'), /--input empty: the folder has no \.txt, .* files/);
});
