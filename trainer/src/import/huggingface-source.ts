// spec.model.from.huggingface: a GPT-2 folder (config.json + model.safetensors, and vocab.json for
// pipetrain's char vocabulary), read by formats/huggingface.ts onto our layers and weight names. Its
// checksum covers the files it reads; its tokenizer, when the folder states one, must be the data's.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TensorRecord } from '../checkpoint/types.ts';
import { FormatError } from '../formats/format-error.ts';
import { readHuggingfaceGpt2 } from '../formats/huggingface.ts';
import { inMemorySource, ModelSourceError, type WeightSource } from './weight-source.ts';

const FIELD = 'spec.model.from.huggingface';
/** Read in this order into the checksum; vocab.json only when present. */
const FILES = ['config.json', 'model.safetensors', 'vocab.json'];

export async function openHuggingfaceSource(dir: string): Promise<WeightSource> {
  let model: Awaited<ReturnType<typeof readHuggingfaceGpt2>>;
  try {
    model = await readHuggingfaceGpt2(dir);
  } catch (error) {
    if (error instanceof FormatError) throw new ModelSourceError(`${FIELD}: ${error.message}`);
    throw error;
  }
  const weights = new Map<string, TensorRecord>(model.weights.flat().map((w) => [w.name, { name: w.name, shape: [...w.shape], data: w.data }]));
  const source = {
    kind: 'huggingface' as const, where: dir, checksum: await filesChecksum(dir), inputShape: model.inputShape, layers: model.layers,
    ...(model.tokenizer ? { tokenizer: model.tokenizer } : {}),
  };
  return inMemorySource(source, weights);
}

async function filesChecksum(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const name of FILES) {
    const bytes = await readFile(join(dir, name)).catch(() => undefined);
    if (bytes) hash.update(name).update(bytes);
  }
  return hash.digest('hex');
}
