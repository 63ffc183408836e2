// Reads a language model out of a checkpoint folder, whatever partition wrote it: the model
// description stage 0 stored in its manifest (covered, like every manifest, by the commit record's SHA-256) and every
// layer's weights (the store is per layer, so any number of stages reads the same way).
import { z } from 'zod';
import { ModelSchema } from '../api/model-schema.ts';
import { listCheckpoints, loadLatestCommitted, type Log } from '../checkpoint/index.ts';
import type { ModelDescription } from '../checkpoint/model-description.ts';
import { TokenizerSpecSchema } from '../data/token-shards.ts';

/** A problem with the checkpoint or the request: printed as one line, nothing else happens. */
export class GenerateError extends Error {}

const DescriptionSchema = z.object({ model: ModelSchema, seed: z.number(), optimizer: z.string(), tokenizer: TokenizerSpecSchema.optional() });

export interface CheckpointedModel {
  step: number;
  backend: string;
  stages: number;
  description: ModelDescription & { tokenizer: NonNullable<ModelDescription['tokenizer']> };
  weights: Map<string, Float32Array>;
}

export async function readCheckpointedModel(dir: string, options: { step?: number; log: Log }): Promise<CheckpointedModel> {
  const committed = await listCheckpoints(dir, { verify: false });
  if (committed.length === 0) throw new GenerateError(`${dir}: no committed checkpoint; train a job with spec.checkpoint.path set to this folder first`);
  const wanted = options.step === undefined ? committed[0]! : committed.find((c) => c.step === options.step);
  if (!wanted) throw new GenerateError(`${dir}: no committed checkpoint of step ${options.step}; committed steps: ${committed.map((c) => c.step).join(', ')}`);
  const layers = [...Array(wanted.partition.reduce((a, b) => a + b, 0)).keys()];
  const loaded = await loadLatestCommitted(dir, { layers, step: options.step, log: options.log });
  if (!loaded) {
    throw new GenerateError(options.step === undefined ? `${dir}: no committed checkpoint verifies (see the warnings above)` : `${dir}: the checkpoint of step ${options.step} does not verify (see the warnings above)`);
  }
  const where = `${dir}: checkpoint step ${loaded.step}`;
  if (loaded.model === undefined) {
    throw new GenerateError(`${where} does not describe its model (written by a pipetrain without language models); train again with this version`);
  }
  const parsed = DescriptionSchema.safeParse(loaded.model);
  if (!parsed.success) throw new GenerateError(`${where}: the model description in its manifest is not valid (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  const { tokenizer } = parsed.data;
  if (!tokenizer) throw new GenerateError(`${where} was not trained on a tokens dataset, so it has no tokenizer to generate text with`);
  const weights = new Map<string, Float32Array>();
  for (const layer of loaded.layers.values()) for (const w of layer.weights) weights.set(w.name, w.data);
  return { step: loaded.step, backend: loaded.backend, stages: loaded.partition.length, description: { ...parsed.data, tokenizer }, weights };
}
