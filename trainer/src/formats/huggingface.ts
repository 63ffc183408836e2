// A Hugging Face GPT-2 directory, as GPT2LMHeadModel.save_pretrained writes it and
// from_pretrained loads it: config.json, model.safetensors (float32, metadata format "pt", which
// transformers requires) and, for a char vocabulary, vocab.json ({character: id}). The name mapping
// is gpt2-mapping.ts; this file reads and writes the files.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenizerSpec } from '../data/tokenizer.ts';
import { FormatError } from './format-error.ts';
import { decodeGpt2, encodeGpt2 } from './gpt2-mapping.ts';
import { encodeSafetensors, readSafetensors } from './safetensors.ts';
import type { LayersAndWeights } from './tfjs-layers.ts';

export const HF_CONFIG = 'config.json';
export const HF_WEIGHTS = 'model.safetensors';
export const HF_VOCAB = 'vocab.json';

export interface NamedFile {
  name: string;
  bytes: Buffer;
}

export interface HuggingfaceGpt2 extends LayersAndWeights {
  /** The tokenizer the directory states: a char vocabulary from vocab.json (exported by pipetrain), or GPT-2's BPE. */
  tokenizer?: TokenizerSpec;
  /** config.json as read. */
  config: Record<string, unknown>;
  /** model.safetensors' __metadata__. */
  metadata: Record<string, string>;
}

/**
 * The files of a GPT-2 directory for our GPT `model`. `metadata` goes into model.safetensors'
 * __metadata__ and config.json's `pipetrain`. Throws a FormatError for a model GPT-2 cannot express.
 */
export function encodeHuggingfaceGpt2(model: LayersAndWeights, options: { metadata: Record<string, string>; tokenizer?: TokenizerSpec }): NamedFile[] {
  const tokenizer = options.tokenizer?.type;
  const { config, tensors } = encodeGpt2(model, { ...options.metadata, ...(tokenizer ? { tokenizer } : {}) });
  // GPT2Config defaults both to 50256, GPT-2's <|endoftext|>; a char vocabulary has no such token.
  Object.assign(config, options.tokenizer?.type === 'gpt2' ? { bos_token_id: 50256, eos_token_id: 50256 } : { bos_token_id: null, eos_token_id: null });
  const files: NamedFile[] = [
    { name: HF_CONFIG, bytes: Buffer.from(`${JSON.stringify(config, null, 2)}\n`) },
    { name: HF_WEIGHTS, bytes: encodeSafetensors(tensors, { format: 'pt', ...options.metadata }) },
  ];
  if (options.tokenizer?.type === 'char') {
    const vocab = Object.fromEntries(options.tokenizer.vocab.map((char, id) => [char, id]));
    files.push({ name: HF_VOCAB, bytes: Buffer.from(`${JSON.stringify(vocab, null, 2)}\n`) });
  }
  return files;
}

/**
 * Reads a GPT-2 directory (config.json + model.safetensors; vocab.json when config.json says the
 * vocabulary is pipetrain's char one) into our layers, repeated blocks expanded, and their weights
 * under our names. Every problem names the file.
 */
export async function readHuggingfaceGpt2(dir: string): Promise<HuggingfaceGpt2> {
  const configFile = join(dir, HF_CONFIG);
  const weightsFile = join(dir, HF_WEIGHTS);
  const config = await readJson(configFile, 'a Hugging Face model directory has config.json next to model.safetensors');
  const safetensors = await readSafetensors(weightsFile).catch(async (error: unknown) => {
    if (error instanceof FormatError && /: missing$/.test(error.message) && (await readFile(join(dir, 'pytorch_model.bin')).then(() => true, () => false))) {
      throw new FormatError(`${weightsFile}: missing; this directory has pytorch_model.bin only, which pipetrain cannot read: save it with save_pretrained(dir, safe_serialization=True)`);
    }
    throw error;
  });
  const model = decodeGpt2(config, safetensors.tensors, { config: configFile, weights: weightsFile });
  const tokenizer = await readTokenizer(dir, config as Record<string, unknown>);
  return { ...model, ...(tokenizer ? { tokenizer } : {}), config: config as Record<string, unknown>, metadata: safetensors.metadata };
}

async function readTokenizer(dir: string, config: Record<string, unknown>): Promise<TokenizerSpec | undefined> {
  const stated = (config.pipetrain as { tokenizer?: unknown } | undefined)?.tokenizer;
  if (stated === 'gpt2' || (stated === undefined && config.vocab_size === 50257)) return { type: 'gpt2' };
  if (stated !== 'char') return undefined;
  const file = join(dir, HF_VOCAB);
  const vocab = await readJson(file, 'config.json says the vocabulary is pipetrain\'s char one, which travels as vocab.json');
  const entries = Object.entries(vocab as Record<string, unknown>);
  const chars: string[] = [];
  for (const [char, id] of entries) {
    if (!Number.isSafeInteger(id) || (id as number) < 0 || (id as number) >= entries.length || chars[id as number] !== undefined) throw new FormatError(`${file}: id ${JSON.stringify(id)} of ${JSON.stringify(char)} is not a unique id in 0..${entries.length - 1}`);
    chars[id as number] = char;
  }
  if (chars.length !== config.vocab_size) throw new FormatError(`${file}: ${chars.length} characters, but config.json's vocab_size is ${String(config.vocab_size)}`);
  return { type: 'char', vocab: chars };
}

async function readJson(file: string, missingHint: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new FormatError(`${file}: ${error.code === 'ENOENT' ? `missing; ${missingHint}` : `unreadable (${error.code})`}`);
  });
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value;
  } catch {
    throw new FormatError(`${file}: not a valid JSON object; it is corrupt, or not a Hugging Face file`);
  }
}
