// The folder map of docs/architecture.md, enforced: who may import whom, and how long a file may get.
// The stage image carries trainer/ only, and no image carries tests, so these are not style rules:
// a trainer file importing operator/ crashed every stage pod once.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SKIP = new Set(['node_modules', '.git', '.cache', 'dist']);

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(ts|js)$/.test(entry.name) ? [path] : [];
  });
}

const isTest = (file: string): boolean => file.endsWith('.test.ts');
const product = [...sources('trainer'), ...sources('operator')].filter((file) => !isTest(file));

/** Repository-relative paths of every file a module imports (static, dynamic, or by URL). */
export function importsOf(file: string, text = readFileSync(join(ROOT, file), 'utf8')): string[] {
  const specifiers = [
    ...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]*)['"]/g),
    ...text.matchAll(/new URL\(\s*['"](\.{1,2}\/[^'"]*)['"]\s*,\s*import\.meta\.url/g),
  ].map((match) => match[1]!);
  return specifiers.map((specifier) => normalize(join(dirname(file), specifier)));
}

function offenders(files: string[], forbidden: (target: string) => boolean): string[] {
  return files.flatMap((file) => importsOf(file).filter(forbidden).map((target) => `${file} -> ${target}`));
}

test('the import checker sees static, dynamic and URL imports', () => {
  const text = `import a from '../operator/x.ts';\nconst b = await import('./y.ts');\nnew URL('../../test/z.ts', import.meta.url);`;
  assert.deepEqual(importsOf('trainer/src/w.ts', text), ['trainer/operator/x.ts', 'trainer/src/y.ts', 'test/z.ts']);
});

test('no file under trainer/ imports operator/ (the stage image has no operator)', () => {
  const trainer = sources('trainer');
  assert.ok(trainer.length > 100, 'found the trainer sources');
  assert.deepEqual(offenders(trainer, (target) => target.startsWith('operator/')), []);
});

test('no product file imports test support or tests', () => {
  assert.deepEqual(offenders(product, (target) => target.startsWith('test/') || target.endsWith('.test.ts')), []);
});

test('operator/machinery imports nothing about PipelineJobs', () => {
  const machinery = sources('operator/machinery').filter((file) => !isTest(file));
  assert.ok(machinery.length >= 10, 'found the machinery');
  assert.deepEqual(offenders(machinery, (target) => !target.startsWith('operator/machinery/')), []);
});

test('the builders of children use no reconcile policy', () => {
  const children = sources('operator/children').filter((file) => !isTest(file));
  assert.deepEqual(offenders(children, (target) => target.startsWith('operator/policy/')), []);
});

test('no source file outside tests exceeds about 400 lines', () => {
  const files = [...product, ...sources('test').filter((file) => !isTest(file))];
  const long = files
    .map((file) => ({ file, lines: readFileSync(join(ROOT, file), 'utf8').trimEnd().split('\n').length }))
    .filter(({ lines }) => lines > 420)
    .map(({ file, lines }) => `${relative('.', file)}: ${lines} lines`);
  assert.deepEqual(long, []);
});
