import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { generatedText, writeGeneratedJsonl } from '../../../test/support/generated-text.ts';
import { readTokenMeta, readTokenSplit } from '../data/token-shards.ts';
import { loadTokenizer } from '../data/tokenizer.ts';
import { prepare, REPORT_FILE } from './prepare.ts';
import type { PrepareReport } from './report.ts';
import { parsePrepareSettings, type PrepareSettingsInput } from './settings.ts';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'prepare-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const p1 = generatedText(11, 300);
const repeated = generatedText(12, 200);
const p2 = generatedText(13, 300);
const x = generatedText(14, 3000);
const y = generatedText(15, 2000);

/** One document of each removal reason, one paragraph removed, three documents kept. */
async function constructedCorpus(dir: string): Promise<{ kept: string[] }> {
  const a = [p1, repeated, p2, repeated].join('\n\n');
  await writeFile(join(dir, 'a.txt'), a);
  // The same text with trailing spaces, CRLF and extra blank lines: equal once cleaned.
  await writeFile(join(dir, 'b.txt'), `${[p1, repeated, p2, repeated].join('  \r\n\r\n\r\n')}\r\n`);
  const nearX = x.split(' ').map((word, i) => (i % 60 === 0 ? 'changed' : word)).join(' ');
  const records = [
    x,
    nearX,
    'too short',
    '#### $$$$ %%%% 1234 5678 ++++ ok',
    Array.from({ length: 12 }, () => 'buy our fine wares today').join('\n') + '\nthanks',
    '',
    generatedText(16, 6000),
    y,
  ];
  await writeFile(join(dir, 'c.jsonl'), records.map((text, i) => JSON.stringify({ id: i, text })).join('\n'));
  return { kept: [[p1, repeated, p2].join('\n\n'), x, y] };
}

const corpusSettings: PrepareSettingsInput = { input: ['a.txt', 'b.txt', 'c.jsonl'], tokenizer: 'char', maxChars: 5000, valFraction: 0.1 };

test('a constructed corpus: known counts per reason, examples, and exactly the kept text in the shards (char)', async (t) => {
  const dir = await tempDir(t);
  const { kept } = await constructedCorpus(dir);
  const result = await prepare(parsePrepareSettings(corpusSettings), { baseDir: dir, out: 'tokens' });
  const counts = Object.fromEntries(result.report.removed.map((entry) => [entry.reason, entry.count]));
  assert.deepEqual(counts, {
    'duplicate-document': 1, 'duplicate-paragraph': 1, 'near-duplicate': 1, empty: 1,
    'too-short': 1, 'too-long': 1, 'too-many-symbols': 1, 'too-many-repeated-lines': 1,
  });
  const example = (reason: string) => result.report.removed.find((entry) => entry.reason === reason)!.examples[0]!;
  assert.equal(example('duplicate-document').where, 'b.txt:1');
  assert.equal(example('duplicate-paragraph').where, `a.txt:1 paragraph ${p1.split('\n\n').length + p2.split('\n\n').length + 2}`);
  assert.equal(example('near-duplicate').where, 'c.jsonl:2');
  assert.equal(example('near-duplicate').like, 'c.jsonl:1');
  assert.equal(example('too-short').text, 'too short');
  assert.equal(example('too-long').where, 'c.jsonl:7');
  assert.deepEqual({ ...result.report.totals, bytes: 0 }, {
    files: 3, bytes: 0, documents: 10, documentsKept: 3, paragraphs: result.report.totals.paragraphs,
    paragraphsKept: result.report.totals.paragraphsKept, chars: result.report.totals.chars, charsKept: kept.join('').length,
  });

  const out = join(dir, 'tokens');
  const meta = await readTokenMeta(out);
  const tokenizer = await loadTokenizer(meta.tokenizer);
  const text = tokenizer.decode([...(await readTokenSplit(out, meta, 'train')), ...(await readTokenSplit(out, meta, 'val'))]);
  assert.equal(text, kept.join('\n\n'));
  const total = meta.splits.train.tokens + meta.splits.val.tokens;
  assert.equal(meta.splits.train.tokens, Math.floor(total * 0.9), 'val is the last 10% of the token stream');
  const report = JSON.parse(await readFile(join(out, REPORT_FILE), 'utf8')) as PrepareReport;
  assert.equal(report.removed.length, 8);
  assert.deepEqual((await readdir(out)).sort(), ['meta.json', 'report.json', 'train-00000.bin', 'val-00000.bin']);
  assert.deepEqual((await readdir(dir)).sort(), ['a.txt', 'b.txt', 'c.jsonl', 'tokens'], 'no staging folder left behind');
});

test('gpt2: the kept documents round-trip through the shards, each ended by <|endoftext|>; split by whole documents', async (t) => {
  const dir = await tempDir(t);
  const { kept } = await constructedCorpus(dir);
  await prepare(parsePrepareSettings({ ...corpusSettings, tokenizer: 'gpt2', splitBy: 'documents', valFraction: 0.3 }), { baseDir: dir, out: 'bpe' });
  const out = join(dir, 'bpe');
  const meta = await readTokenMeta(out);
  assert.equal(meta.dtype, 'uint16');
  const tokenizer = await loadTokenizer(meta.tokenizer);
  const train = tokenizer.decode([...(await readTokenSplit(out, meta, 'train'))]);
  const val = tokenizer.decode([...(await readTokenSplit(out, meta, 'val'))]);
  assert.equal(train, `${kept[0]}<|endoftext|>${kept[1]}<|endoftext|>`);
  assert.equal(val, `${kept[2]}<|endoftext|>`);
});

test('the same inputs and settings give byte-identical shards and meta.json', async (t) => {
  const dir = await tempDir(t);
  await constructedCorpus(dir);
  const settings = parsePrepareSettings({ ...corpusSettings, shardBytes: 4096 });
  await prepare(settings, { baseDir: dir, out: 'one' });
  await prepare(settings, { baseDir: dir, out: 'two' });
  const files = await readdir(join(dir, 'one'));
  assert.ok(files.length > 4, `several shards: ${files.join(', ')}`);
  assert.deepEqual(await readdir(join(dir, 'two')), files);
  for (const file of files) assert.ok((await readFile(join(dir, 'one', file))).equals(await readFile(join(dir, 'two', file))), file);
  const other = await prepare(parsePrepareSettings({ ...corpusSettings, shardBytes: 4096, seed: 2, nearDuplicateThreshold: 0.99 }), { baseDir: dir, out: 'three' });
  assert.equal(other.report.removed.find((entry) => entry.reason === 'near-duplicate')!.count, 0, 'a stricter threshold keeps the near copy');
});

/** Every file of a folder with its inode and modification time: a rewrite changes one or the other. */
async function fileStamps(dir: string): Promise<Record<string, string>> {
  const stamps: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) {
    const info = await stat(join(dir, name), { bigint: true });
    stamps[name] = `${info.ino}:${info.mtimeNs}:${info.size}`;
  }
  return stamps;
}

test('a second run with the same inputs and settings is a no-op; new content, a setting or a missing shard prepares again', async (t) => {
  const dir = await tempDir(t);
  await constructedCorpus(dir);
  const settings = parsePrepareSettings(corpusSettings);
  const out = join(dir, 'tokens');
  const first = await prepare(settings, { baseDir: dir, out: 'tokens' });
  assert.equal(first.upToDate, false);
  const meta = await readTokenMeta(out);
  const inputs = meta.source!.inputs as { name: string; bytes: number; sha256: string }[];
  assert.deepEqual(inputs.map((input) => input.name), ['a.txt', 'b.txt', 'c.jsonl']);
  assert.equal(inputs[0]!.sha256, createHash('sha256').update(await readFile(join(dir, 'a.txt'))).digest('hex'));
  assert.equal(inputs[2]!.bytes, (await stat(join(dir, 'c.jsonl'))).size);
  const stamps = await fileStamps(out);

  const again = await prepare(settings, { baseDir: dir, out: 'tokens' });
  assert.equal(again.upToDate, true);
  assert.deepEqual(await fileStamps(out), stamps, 'nothing in the output was rewritten');
  assert.deepEqual(again.meta, first.meta);
  assert.deepEqual(again.report, first.report);
  assert.ok(again.seconds < first.seconds, `the no-op (${again.seconds.toFixed(3)} s) is faster than preparing (${first.seconds.toFixed(3)} s)`);
  assert.deepEqual((await readdir(dir)).sort(), ['a.txt', 'b.txt', 'c.jsonl', 'tokens'], 'no staging folder was made');

  // The same size, other content: found by the SHA-256, not by the size or the time.
  const a = await readFile(join(dir, 'a.txt'), 'utf8');
  await writeFile(join(dir, 'a.txt'), `${a.startsWith('X') ? 'Y' : 'X'}${a.slice(1)}`);
  const changedInput = await prepare(settings, { baseDir: dir, out: 'tokens' });
  assert.equal(changedInput.upToDate, false);
  assert.notEqual((await readTokenMeta(out)).splits.train.shards[0]!.sha256, meta.splits.train.shards[0]!.sha256);
  assert.equal((await prepare(settings, { baseDir: dir, out: 'tokens' })).upToDate, true);

  const changedSetting = await prepare(parsePrepareSettings({ ...corpusSettings, valFraction: 0.2 }), { baseDir: dir, out: 'tokens' });
  assert.equal(changedSetting.upToDate, false);
  assert.equal(changedSetting.meta.splits.val.tokens > changedInput.meta.splits.val.tokens, true);
  assert.equal((await prepare(settings, { baseDir: dir, out: 'tokens' })).upToDate, false, 'back to the first settings: prepared again');

  await rm(join(out, 'val-00000.bin'));
  assert.equal((await prepare(settings, { baseDir: dir, out: 'tokens' })).upToDate, false, 'a missing shard is written again');
  assert.equal((await readTokenSplit(out, await readTokenMeta(out), 'val')).length, changedInput.meta.splits.val.tokens);
});

test('bad input gets a one-line error naming the file and changes nothing', async (t) => {
  const dir = await tempDir(t);
  await constructedCorpus(dir);
  await prepare(parsePrepareSettings(corpusSettings), { baseDir: dir, out: 'tokens' });
  const before = await readFile(join(dir, 'tokens', 'meta.json'));
  await writeFile(join(dir, 'image.txt'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]));
  await assert.rejects(prepare(parsePrepareSettings({ ...corpusSettings, input: ['a.txt', 'image.txt'] }), { baseDir: dir, out: 'tokens' }), /^Error: image\.txt: not UTF-8 text \(an invalid byte sequence at byte 0\); binary files cannot be prepared: remove it from the input$/);
  await writeFile(join(dir, 'blank.txt'), ' \n\n\t\n');
  await assert.rejects(prepare(parsePrepareSettings({ ...corpusSettings, input: ['blank.txt'] }), { baseDir: dir, out: 'tokens' }), /^Error: --input: nothing is left to train on: all 1 document\(s\) were removed \(1 empty\)/);
  await writeFile(join(dir, 'none.jsonl'), '');
  await assert.rejects(prepare(parsePrepareSettings({ ...corpusSettings, input: ['none.jsonl'] }), { baseDir: dir, out: 'tokens' }), /^Error: --input: the inputs hold no document/);
  assert.ok((await readFile(join(dir, 'tokens', 'meta.json'))).equals(before), 'the earlier output is untouched');
  assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith('.')), [], 'no staging folder left behind');
});

test('streams an input larger than its memory: 24 MB of JSON Lines with a 20 MB JavaScript heap', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const bytes = await writeGeneratedJsonl(join(dir, 'big.jsonl'), 24e6);
  const script = `
    import { prepare } from ${JSON.stringify(new URL('./prepare.ts', import.meta.url).href)};
    import { parsePrepareSettings } from ${JSON.stringify(new URL('./settings.ts', import.meta.url).href)};
    const result = await prepare(parsePrepareSettings({ input: ['big.jsonl'], tokenizer: 'char' }), { baseDir: process.cwd(), out: 'tokens' });
    console.log(JSON.stringify({ documents: result.report.totals.documentsKept, tokens: result.meta.splits.train.tokens + result.meta.splits.val.tokens }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--max-old-space-size=20', '--input-type=module', '--eval', script], { cwd: dir });
  const summary = JSON.parse(stdout) as { documents: number; tokens: number };
  assert.ok(summary.documents > 5000, `${summary.documents} documents`);
  assert.ok(summary.tokens > bytes * 0.8, `${summary.tokens} tokens from ${bytes} bytes`);
});
