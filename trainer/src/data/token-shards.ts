// The on-disk format of prepared token data (written by `pipetrain prepare`, read by the `tokens`
// dataset and by `pipetrain generate`):
//
//   DIR/meta.json            what is below, validated by TokenMetaSchema
//   DIR/train-00000.bin ...  raw little-endian token ids, `dtype` wide (uint16 when the vocabulary fits)
//   DIR/val-00000.bin ...
//
// meta.json lists every shard with its token count and SHA-256, so a reader never trains on a
// truncated or swapped shard: it verifies each one or refuses with the file's name.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { DataError } from './dataset.ts';

export const TOKEN_FORMAT = 'pipetrain-tokens/1';
export const META_FILE = 'meta.json';

const ShardSchema = z.strictObject({
  file: z.string().regex(/^[\w.-]+\.bin$/, 'a file name in the same folder, ending in .bin'),
  tokens: z.int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

const SplitSchema = z.strictObject({
  tokens: z.int().min(0),
  shards: z.array(ShardSchema),
});

export const TokenizerSpecSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('char'), vocab: z.array(z.string().min(1)).min(1) }),
  z.strictObject({ type: z.literal('gpt2') }),
]);

export const TokenMetaSchema = z.object({
  format: z.literal(TOKEN_FORMAT),
  tokenizer: TokenizerSpecSchema,
  vocabSize: z.int().min(1),
  dtype: z.enum(['uint16', 'uint32']),
  splits: z.strictObject({ train: SplitSchema, val: SplitSchema }),
  /** Free-form provenance: inputs, settings, counts, the cleaning report's summary (prepare owns it). */
  source: z.record(z.string(), z.unknown()).optional(),
});
export type TokenMeta = z.infer<typeof TokenMetaSchema>;
export type TokenSplit = 'train' | 'val';
export type TokenArray = Uint16Array | Uint32Array;

/** The narrowest id type that holds every token of a vocabulary. */
export function dtypeFor(vocabSize: number): TokenMeta['dtype'] {
  return vocabSize <= 0x10000 ? 'uint16' : 'uint32';
}

export async function readTokenMeta(dir: string): Promise<TokenMeta> {
  const where = join(dir, META_FILE);
  let text: string;
  try {
    text = await readFile(where, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? `${where}: missing; prepare the data first (pipetrain prepare --out ${dir} ...)` : `${where}: unreadable (${code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DataError(`${where}: not valid JSON; prepare the data again`);
  }
  const parsed = TokenMetaSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DataError(`${where}: not a pipetrain token folder (${issue ? `${issue.path.join('.') || 'root'}: ${issue.message}` : 'invalid'}); prepare the data again`);
  }
  return parsed.data;
}

/** Every token of one split, shards concatenated in order, each verified against meta.json. */
export async function readTokenSplit(dir: string, meta: TokenMeta, split: TokenSplit): Promise<TokenArray> {
  const { shards, tokens } = meta.splits[split];
  const width = meta.dtype === 'uint16' ? 2 : 4;
  const out = meta.dtype === 'uint16' ? new Uint16Array(tokens) : new Uint32Array(tokens);
  let at = 0;
  for (const shard of shards) {
    const where = join(dir, shard.file);
    const bytes = await readFile(where).catch((error: NodeJS.ErrnoException) => {
      throw new DataError(`${where}: ${error.code === 'ENOENT' ? 'missing' : `unreadable (${error.code})`}; prepare the data again`);
    });
    if (bytes.length !== shard.tokens * width) {
      throw new DataError(`${where}: ${bytes.length} bytes, but meta.json says ${shard.tokens} ${meta.dtype} tokens (${shard.tokens * width} bytes); prepare the data again`);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== shard.sha256) throw new DataError(`${where}: SHA-256 ${sha256.slice(0, 12)}… does not match meta.json (${shard.sha256.slice(0, 12)}…); the shard is corrupt or from another preparation`);
    if (at + shard.tokens > tokens) throw new DataError(`${join(dir, META_FILE)}: the ${split} shards hold more tokens than splits.${split}.tokens (${tokens})`);
    // Copy out of the file buffer: it may be unaligned for a 2- or 4-byte view.
    const view = meta.dtype === 'uint16' ? new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)) : new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    out.set(view, at);
    at += shard.tokens;
  }
  if (at !== tokens) throw new DataError(`${join(dir, META_FILE)}: the ${split} shards hold ${at} tokens, but splits.${split}.tokens says ${tokens}; prepare the data again`);
  for (let i = 0; i < out.length; i++) {
    if (out[i]! >= meta.vocabSize) throw new DataError(`${join(dir, shards[0]?.file ?? META_FILE)}: token id ${out[i]} at position ${i} is outside the vocabulary (${meta.vocabSize})`);
  }
  return out;
}
