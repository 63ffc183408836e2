// What a checkpoint says about its model: the job's spec.model (vocabulary resolved), the seed and
// the optimizer type, the tokenizer of a tokens dataset, and for a LoRA job its adapters' spec and
// where its (frozen) base came from.
// Stage 0 stores it in its manifest; `pipetrain generate` rebuilds the model from it.
import type { PipelineJob } from '../api/schema.ts';
import type { TokenizerSpec } from '../data/tokenizer.ts';
import type { LoraSpec } from '../model/lora-targets.ts';

export interface ModelDescription {
  model: PipelineJob['spec']['model'];
  seed: number;
  optimizer: string;
  tokenizer?: TokenizerSpec;
  /** spec.training.lora: the checkpoint holds adapters `<kernel>/lora_a`, `/lora_b` besides the base. */
  lora?: LoraSpec;
  /** A LoRA job's base: spec.model.from (also in the run hash), or absent for a seeded base. */
  baseFrom?: unknown;
}

export function describeModel(job: PipelineJob, tokenizer?: TokenizerSpec): ModelDescription {
  const { model, training } = job.spec;
  const lora = training.lora ? { lora: training.lora, ...(model.from ? { baseFrom: model.from } : {}) } : {};
  return { model, seed: training.seed, optimizer: training.optimizer.type, ...(tokenizer ? { tokenizer } : {}), ...lora };
}
