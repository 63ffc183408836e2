import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readTokenSplit, type TokenMeta } from '../data/token-shards.ts';
import { charTokenizer, gpt2Tokenizer } from '../data/tokenizer.ts';
import { splitPoint, writeShards } from './shard-writer.ts';
import { TokenStream } from './token-stream.ts';

async function folder(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shards-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('the split point: the last valFraction of the tokens, or the nearest document start', () => {
  const starts = Float64Array.from([0, 40, 85]);
  assert.equal(splitPoint(100, starts, 0.1, 'tokens'), 90);
  assert.equal(splitPoint(100, starts, 0.1, 'documents'), 85);
  assert.equal(splitPoint(100, starts, 0.5, 'documents'), 40);
  assert.equal(splitPoint(100, starts, 0, 'documents'), 100);
  assert.throws(() => splitPoint(100, Float64Array.from([0]), 0.1, 'documents'), /--split-by documents: the 1 kept document\(s\) cannot be split/);
});

test('char: ids become those of the sorted vocabulary; documents are separated by a blank line; shards are cut at the split and at shardBytes', async (t) => {
  const dir = await folder(t);
  const stream = new TokenStream(join(dir, 'tokens.tmp'), charTokenizer([' ']));
  stream.add('hello');
  stream.add('world');
  const result = stream.finish();
  assert.equal(result.tokens, 12);
  assert.deepEqual([...result.documentStarts], [0, 5]);
  const shards = writeShards(dir, result, { tokenizer: 'char', valFraction: 0.25, splitBy: 'tokens', shardBytes: 8 });
  assert.deepEqual(shards.tokenizer, { type: 'char', vocab: ['\n', 'd', 'e', 'h', 'l', 'o', 'r', 'w'] });
  assert.equal(shards.dtype, 'uint16');
  assert.deepEqual(shards.splits.train.shards.map((s) => [s.file, s.tokens]), [['train-00000.bin', 4], ['train-00001.bin', 4], ['train-00002.bin', 1]]);
  assert.deepEqual(shards.splits.val.shards.map((s) => [s.file, s.tokens]), [['val-00000.bin', 3]]);
  const meta = { ...shards } as TokenMeta;
  const tokenizer = charTokenizer((shards.tokenizer as { vocab: string[] }).vocab);
  const train = tokenizer.decode([...(await readTokenSplit(dir, meta, 'train'))]);
  const val = tokenizer.decode([...(await readTokenSplit(dir, meta, 'val'))]);
  assert.equal(train + val, 'hello\n\nworld');
  assert.equal(val, 'rld');
  assert.equal((await readFile(join(dir, 'val-00000.bin'))).length, 6, 'uint16: 2 bytes a token');
});

test('gpt2: every document ends with <|endoftext|>; the text round-trips', async (t) => {
  const dir = await folder(t);
  const tokenizer = await gpt2Tokenizer();
  const stream = new TokenStream(join(dir, 'tokens.tmp'), tokenizer);
  stream.add('Call me Ishmael.');
  stream.add('It is a way I have of driving off the spleen.');
  const shards = writeShards(dir, stream.finish(), { tokenizer: 'gpt2', valFraction: 0, splitBy: 'tokens', shardBytes: 1 << 20 });
  assert.equal(shards.vocabSize, 50_257);
  assert.equal(shards.splits.val.tokens, 0);
  assert.deepEqual(shards.splits.val.shards, []);
  const ids = [...(await readTokenSplit(dir, shards as TokenMeta, 'train'))];
  assert.equal(ids.filter((id) => id === tokenizer.endOfText).length, 2);
  assert.equal(ids.at(-1), tokenizer.endOfText);
  assert.equal(tokenizer.decode(ids), 'Call me Ishmael.<|endoftext|>It is a way I have of driving off the spleen.<|endoftext|>');
});
