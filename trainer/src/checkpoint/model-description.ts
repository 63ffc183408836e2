// What a checkpoint says about its model: the job's spec.model (vocabulary resolved), the seed and
// the optimizer type, and the tokenizer of a tokens dataset.
// Stage 0 stores it in its manifest; `pipetrain generate` rebuilds the model from it.
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
