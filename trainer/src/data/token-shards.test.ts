import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readTokenMeta, readTokenSplit, TOKEN_FORMAT, type TokenMeta } from './token-shards.ts';

async function writeFolder(dir: string, train: number[][], val: number[][]): Promise<TokenMeta> {
  const split = async (name: string, shards: number[][]) => {
    const out = [];
    for (const [i, ids] of shards.entries()) {
      const bytes = Buffer.from(Uint16Array.from(ids).buffer);
      const file = `${name}-${String(i).padStart(5, '0')}.bin`;
      await writeFile(join(dir, file), bytes);
      out.push({ file, tokens: ids.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    return { tokens: shards.flat().length, shards: out };
  };
  const meta: TokenMeta = { format: TOKEN_FORMAT, tokenizer: { type: 'char', vocab: ['a', 'b', 'c'] }, vocabSize: 3, dtype: 'uint16', splits: { train: await split('train', train), val: await split('val', val) } };
  await writeFile(join(dir, 'meta.json'), JSON.stringify(meta));
  return meta;
}

test('reads the shards of a split in order', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tokens-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFolder(dir, [[0, 1, 2], [2, 1]], [[1]]);
  const meta = await readTokenMeta(dir);
  assert.deepEqual([...(await readTokenSplit(dir, meta, 'train'))], [0, 1, 2, 2, 1]);
  assert.deepEqual([...(await readTokenSplit(dir, meta, 'val'))], [1]);
});

test('refuses a corrupt shard, a truncated one, an id outside the vocabulary and a missing meta.json', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tokens-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await assert.rejects(readTokenMeta(dir), /meta\.json: missing; prepare the data first/);
  const meta = await writeFolder(dir, [[0, 1, 2]], [[1]]);
  await writeFile(join(dir, 'train-00000.bin'), Buffer.from(Uint16Array.from([0, 2, 1]).buffer));
  await assert.rejects(readTokenSplit(dir, meta, 'train'), /train-00000\.bin: SHA-256 .* does not match/);
  await writeFile(join(dir, 'train-00000.bin'), Buffer.from(Uint16Array.from([0, 1]).buffer));
  await assert.rejects(readTokenSplit(dir, meta, 'train'), /4 bytes, but meta\.json says 3 uint16 tokens/);
  const bad = await writeFolder(dir, [[0, 7]], [[1]]);
  await assert.rejects(readTokenSplit(dir, bad, 'train'), /token id 7 at position 1 is outside the vocabulary \(3\)/);
  await writeFile(join(dir, 'meta.json'), '{"format":"other"}');
  await assert.rejects(readTokenMeta(dir), /not a pipetrain token folder \(format/);
});
