// Reads a whole model out of a checkpoint folder, whatever partition wrote it: the model
// description stage 0 stored in its manifest (covered, like every manifest, by the commit record's
// SHA-256) and every layer's weights (the store is per layer, so any number of stages reads the
// same way). `pipetrain export` and `predict` take any model; `generate` needs a language model
// with its tokenizer (readLanguageModelCheckpoint).
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ModelSchema } from '../api/model-schema.ts';
import { LoraSchema } from '../api/run-schema.ts';
import { COMMIT_FILE, listCheckpoints, loadLatestCommitted, stepDirName, type Log, type TensorRecord } from '../checkpoint/index.ts';
import type { ModelDescription } from '../checkpoint/model-description.ts';
import { TokenizerSpecSchema } from '../data/token-shards.ts';

/** A problem with the checkpoint or the request: printed as one line, nothing else happens. */
export class CheckpointError extends Error {}
/** The name `pipetrain generate` has always thrown. */
export { CheckpointError as GenerateError };

const DescriptionSchema = z.object({ model: ModelSchema, seed: z.number(), optimizer: z.string(), tokenizer: TokenizerSpecSchema.optional(), lora: LoraSchema, baseFrom: z.unknown().optional() });
const STEP_FOLDER = /^step-(\d{9,})$/;

export interface CheckpointedModel {
  /** The checkpoint folder (spec.checkpoint.path), also when a step folder was given. */
  dir: string;
  step: number;
  backend: string;
  stages: number;
  jobName: string;
  /** SHA-256 (hex) of the step's COMMITTED.json: it covers every manifest, and they every layer file. */
  commitSha256: string;
  description: ModelDescription;
  /** layers[i]: the weights of model layer i (repeated blocks expanded) in layer order; a tied lmHead has none. */
  layers: TensorRecord[][];
  /** Every weight by name (a tied copy shares the embedding's name). */
  weights: Map<string, Float32Array>;
}

export interface LanguageModelCheckpoint extends CheckpointedModel {
  description: ModelDescription & { tokenizer: NonNullable<ModelDescription['tokenizer']> };
}

/**
 * The model of the newest committed checkpoint in `location` (or of `step`). `location` is a
 * checkpoint folder or one of its step folders (`…/step-000000120`), which then picks the step.
 */
export async function readCheckpointedModel(location: string, options: { step?: number; log: Log }): Promise<CheckpointedModel> {
  await checkIsFolder(location);
  const { dir, step } = checkpointFolder(location, options.step);
  const committed = await listCheckpoints(dir, { verify: false });
  if (committed.length === 0) throw new CheckpointError(`${dir}: no committed checkpoint; train a job with spec.checkpoint.path set to this folder first`);
  const wanted = step === undefined ? committed[0]! : committed.find((c) => c.step === step);
  if (!wanted) throw new CheckpointError(`${dir}: no committed checkpoint of step ${step}; committed steps: ${committed.map((c) => c.step).join(', ')}`);
  const layerCount = wanted.partition.reduce((a, b) => a + b, 0);
  const loaded = await loadLatestCommitted(dir, { layers: [...Array(layerCount).keys()], step, log: options.log });
  if (!loaded) {
    throw new CheckpointError(step === undefined ? `${dir}: no committed checkpoint verifies (see the warnings above)` : `${dir}: the checkpoint of step ${step} does not verify (see the warnings above)`);
  }
  const where = `${dir}: checkpoint step ${loaded.step}`;
  if (loaded.model === undefined) {
    throw new CheckpointError(`${where} does not describe its model (written by an older pipetrain); train again with this version`);
  }
  const parsed = DescriptionSchema.safeParse(loaded.model);
  if (!parsed.success) throw new CheckpointError(`${where}: the model description in its manifest is not valid (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  const { tokenizer, lora, baseFrom, ...rest } = parsed.data;
  const layers = [...Array(loaded.layers.size).keys()].map((index) => loaded.layers.get(index)!.weights);
  const weights = new Map<string, Float32Array>();
  for (const w of layers.flat()) weights.set(w.name, w.data);
  const commitSha256 = createHash('sha256').update(await readFile(path.join(dir, stepDirName(loaded.step), COMMIT_FILE))).digest('hex');
  return {
    dir, step: loaded.step, backend: loaded.backend, stages: loaded.partition.length, jobName: loaded.jobName, commitSha256,
    description: { ...rest, ...(tokenizer ? { tokenizer } : {}), ...(lora ? { lora } : {}), ...(baseFrom !== undefined ? { baseFrom } : {}) }, layers, weights,
  };
}

/** As readCheckpointedModel, for a model trained on a tokens dataset (it brings its tokenizer). */
export async function readLanguageModelCheckpoint(location: string, options: { step?: number; log: Log }): Promise<LanguageModelCheckpoint> {
  const checkpoint = await readCheckpointedModel(location, options);
  const { tokenizer } = checkpoint.description;
  if (!tokenizer) throw new CheckpointError(`${checkpoint.dir}: checkpoint step ${checkpoint.step} was not trained on a tokens dataset, so it has no tokenizer to generate text with`);
  return { ...checkpoint, description: { ...checkpoint.description, tokenizer } };
}

/** A step folder names its checkpoint folder and its step; --step must then agree. */
function checkpointFolder(location: string, step: number | undefined): { dir: string; step?: number } {
  const match = STEP_FOLDER.exec(path.basename(path.resolve(location)));
  if (!match) return { dir: location, step };
  const folderStep = Number(match[1]);
  if (step !== undefined && step !== folderStep) throw new CheckpointError(`${location} is the folder of step ${folderStep}, but --step ${step} was given; give the checkpoint folder (${path.dirname(location)}) with --step, or drop --step`);
  return { dir: path.dirname(location), step: folderStep };
}

/** A missing location or a file is named as such, not as a folder without checkpoints. */
async function checkIsFolder(location: string): Promise<void> {
  const kind = await stat(location).then((s) => (s.isDirectory() ? 'folder' : 'file'), () => 'missing');
  if (kind === 'missing') throw new CheckpointError(`${location}: no such folder; give a job's checkpoint folder (spec.checkpoint.path)`);
  if (kind === 'file') throw new CheckpointError(`${location}: not a folder; give a job's checkpoint folder (spec.checkpoint.path) or one of its step folders`);
}
