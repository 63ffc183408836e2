// Writes the final token shards from the temporary token file of token-stream.ts: renumbers char ids
// to the sorted vocabulary, cuts the stream into train and val, writes uint16 (or uint32) shards of
// at most shardBytes each with their SHA-256, and returns the meta.json that describes them.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { dtypeFor, TOKEN_FORMAT, type TokenMeta, type TokenSplit } from '../data/token-shards.ts';
import { charVocabulary, GPT2_VOCAB_SIZE, type TokenizerSpec } from '../data/tokenizer.ts';
import { PrepareError } from './errors.ts';
import type { TokenStreamResult } from './token-stream.ts';

const BLOCK_TOKENS = 1 << 20;

export interface ShardOptions {
  tokenizer: 'char' | 'gpt2';
  valFraction: number;
  splitBy: 'tokens' | 'documents';
  shardBytes: number;
}

/** The first val token: the last valFraction of the stream, or the document start nearest to it. */
export function splitPoint(tokens: number, documentStarts: Float64Array, valFraction: number, splitBy: 'tokens' | 'documents'): number {
  const cut = Math.floor(tokens * (1 - valFraction));
  if (splitBy === 'tokens' || valFraction === 0) return cut;
  let best = tokens;
  for (const start of documentStarts) if (Math.abs(start - cut) < Math.abs(best - cut)) best = start;
  if (best === 0 || best === tokens) {
    throw new PrepareError(`--split-by documents: the ${documentStarts.length} kept document(s) cannot be split into train and val at ${valFraction}; use --split-by tokens, or give more documents`);
  }
  return best;
}

/** Maps first-appearance char ids to ids in the sorted vocabulary. */
function charRenumbering(firstSeen: readonly string[]): { vocab: string[]; map: Uint32Array } {
  const vocab = charVocabulary(firstSeen);
  const sortedId = new Map(vocab.map((char, id) => [char, id]));
  return { vocab, map: Uint32Array.from(firstSeen, (char) => sortedId.get(char)!) };
}

interface OpenShard {
  fd: number;
  file: string;
  tokens: number;
  hash: ReturnType<typeof createHash>;
}

export function writeShards(dir: string, stream: TokenStreamResult, options: ShardOptions): Pick<TokenMeta, 'format' | 'tokenizer' | 'vocabSize' | 'dtype' | 'splits'> {
  const chars = stream.firstSeenChars ? charRenumbering(stream.firstSeenChars) : undefined;
  const tokenizer: TokenizerSpec = chars ? { type: 'char', vocab: chars.vocab } : { type: 'gpt2' };
  const vocabSize = chars ? chars.vocab.length : GPT2_VOCAB_SIZE;
  const dtype = dtypeFor(vocabSize);
  const width = dtype === 'uint16' ? 2 : 4;
  const shardTokens = Math.max(1, Math.floor(options.shardBytes / width));
  const cut = splitPoint(stream.tokens, stream.documentStarts, options.valFraction, options.splitBy);
  const splits: TokenMeta['splits'] = { train: { tokens: cut, shards: [] }, val: { tokens: stream.tokens - cut, shards: [] } };

  const input = openSync(stream.path, 'r');
  const inBytes = new Uint8Array(BLOCK_TOKENS * stream.width);
  const ids = stream.width === 2 ? new Uint16Array(inBytes.buffer) : new Uint32Array(inBytes.buffer);
  const out = dtype === 'uint16' ? new Uint16Array(BLOCK_TOKENS) : new Uint32Array(BLOCK_TOKENS);
  let shard: OpenShard | undefined;
  const closeShard = (split: TokenSplit) => {
    if (!shard) return;
    closeSync(shard.fd);
    splits[split].shards.push({ file: shard.file, tokens: shard.tokens, sha256: shard.hash.digest('hex') });
    shard = undefined;
  };
  try {
    for (let position = 0; position < stream.tokens; ) {
      const count = Math.min(BLOCK_TOKENS, stream.tokens - position);
      readFully(input, inBytes, count * stream.width, position * stream.width);
      for (let i = 0; i < count; i++) out[i] = chars ? chars.map[ids[i]!]! : ids[i]!;
      // Write the block, opening a new shard at the split point and whenever one is full.
      for (let i = 0; i < count; ) {
        const at = position + i;
        const split: TokenSplit = at < cut ? 'train' : 'val';
        if (at === cut) closeShard('train');
        if (!shard) {
          const file = `${split}-${String(splits[split].shards.length).padStart(5, '0')}.bin`;
          shard = { fd: openSync(join(dir, file), 'w'), file, tokens: 0, hash: createHash('sha256') };
        }
        const end = Math.min(count, i + (shardTokens - shard.tokens), split === 'train' ? cut - position : count);
        const bytes = new Uint8Array(out.buffer, i * width, (end - i) * width);
        shard.hash.update(bytes);
        for (let done = 0; done < bytes.length; ) done += writeSync(shard.fd, bytes, done, bytes.length - done);
        shard.tokens += end - i;
        i = end;
        if (shard.tokens === shardTokens) closeShard(split);
      }
      position += count;
    }
    closeShard(cut < stream.tokens ? 'val' : 'train');
  } finally {
    if (shard) closeSync(shard.fd);
    closeSync(input);
  }
  return { format: TOKEN_FORMAT, tokenizer, vocabSize, dtype, splits };
}

function readFully(fd: number, into: Uint8Array, length: number, position: number): void {
  for (let done = 0; done < length; ) {
    const read = readSync(fd, into, done, length - done, position + done);
    if (read === 0) throw new PrepareError('prepare: the temporary token file ended early (was it removed while preparing?)');
    done += read;
  }
}
