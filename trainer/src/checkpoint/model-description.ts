// What a checkpoint says about its model: the job's spec.model (vocabulary resolved), the seed and
// the optimizer type (exactly what the spec hash covers), and the tokenizer of a tokens dataset.
// Stage 0 stores it in its manifest; `pipetrain generate` rebuilds the model from it.
import { createHash } from 'node:crypto';
import type { PipelineJob } from '../api/schema.ts';
import type { TokenizerSpec } from '../data/tokenizer.ts';

export interface ModelDescription {
  model: PipelineJob['spec']['model'];
  seed: number;
  optimizer: string;
  tokenizer?: TokenizerSpec;
}

export function describeModel(job: PipelineJob, tokenizer?: TokenizerSpec): ModelDescription {
  const { model, training } = job.spec;
  return { model, seed: training.seed, optimizer: training.optimizer.type, ...(tokenizer ? { tokenizer } : {}) };
}

/**
 * sha256 of the description without its tokenizer: the checkpoint's specHash. Hash the JSON as
 * written (key order matters), not a re-validated copy.
 */
export function hashModel({ model, seed, optimizer }: Pick<ModelDescription, 'model' | 'seed' | 'optimizer'>): string {
  return createHash('sha256').update(JSON.stringify({ model, seed, optimizer })).digest('hex');
}
