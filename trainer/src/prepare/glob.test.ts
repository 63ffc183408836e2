import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { expandGlob, globMatcher, isGlob, splitGlob } from './glob.ts';

test('globs: * and ? in one segment, ** across segments, hidden names only when asked', () => {
  assert.equal(isGlob('a/*.txt'), true);
  assert.equal(isGlob('a/b.txt'), false);
  assert.ok(globMatcher('*.txt').test('a.txt'));
  assert.ok(!globMatcher('*.txt').test('d/a.txt'));
  assert.ok(!globMatcher('*.txt').test('.hidden.txt'));
  assert.ok(globMatcher('.*.txt').test('.hidden.txt'));
  assert.ok(globMatcher('?.md').test('a.md'));
  assert.ok(!globMatcher('?.md').test('ab.md'));
  assert.ok(globMatcher('**/*.txt').test('a.txt'));
  assert.ok(globMatcher('**/*.txt').test('x/y/a.txt'));
  assert.ok(!globMatcher('**/*.txt').test('x/.git/a.txt'));
  assert.ok(globMatcher('a+b(1).txt').test('a+b(1).txt'), 'regex characters are literal');
  assert.deepEqual(splitGlob('corpus/books/*.txt'), { base: 'corpus/books', rest: '*.txt' });
  assert.deepEqual(splitGlob('/data/**/x.txt'), { base: '/data', rest: '**/x.txt' });
  assert.deepEqual(splitGlob('*.txt'), { base: '.', rest: '*.txt' });
});

test('expandGlob lists matching files sorted by path', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'glob-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'b', 'c'), { recursive: true });
  for (const file of ['z.txt', 'a.txt', 'b/m.txt', 'b/c/q.txt', 'b/skip.md']) await writeFile(join(dir, file), 'x');
  assert.deepEqual(await expandGlob(join(dir, '*.txt')), [join(dir, 'a.txt'), join(dir, 'z.txt')]);
  assert.deepEqual(await expandGlob(join(dir, '**/*.txt')), [join(dir, 'a.txt'), join(dir, 'b/c/q.txt'), join(dir, 'b/m.txt'), join(dir, 'z.txt')]);
  assert.deepEqual(await expandGlob(join(dir, 'nothing/*.txt')), []);
});
