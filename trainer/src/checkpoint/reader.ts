// Loading for resume: the newest committed checkpoint whose every file verifies. Every layer file
// of the checkpoint is verified (not only the requested ones), so all stages of a restarted
// pipeline, each loading its own layers, agree on the same step.
import path from 'node:path';
import { decodeLayer } from './format.ts';
import { COMMIT_FILE, layerFileName, listStepFolders, stepDir } from './layout.ts';
import { exists } from './list.ts';
import type { LayerState, LoadedCheckpoint, Log, RecordedSource } from './types.ts';
import { verifyCommitted } from './verify.ts';
import { CommitRecordSchema, readJsonFile, StageManifestSchema } from './manifest.ts';

/** Thrown when the newest valid checkpoint belongs to a different run (another specHash or layer count). */
export class CheckpointMismatchError extends Error {
  override readonly name = 'CheckpointMismatchError';
}

export interface LoadOptions {
  /** Global indices of the layers to return (any partition: the store is per layer). */
  layers: number[];
  /** When given, a checkpoint written for another spec is refused with a CheckpointMismatchError. */
  specHash?: string;
  /** Receives a warning per skipped checkpoint. Default: printed to stderr. */
  log?: Log;
  /** Consider this step only (undefined when it is not committed or does not verify). Default: the newest that verifies. */
  step?: number;
}

/** Step of the newest committed checkpoint, without verifying it; undefined when there is none. */
export async function latestCommittedStep(dir: string): Promise<number | undefined> {
  for (const step of await listStepFolders(dir)) if (await exists(path.join(stepDir(dir, step), COMMIT_FILE))) return step;
  return undefined;
}

/**
 * Newest committed checkpoint that verifies, with the requested layers decoded. A corrupt or
 * incomplete one is skipped with a warning naming the file, and the next older one is tried.
 * undefined when none is left.
 */
export async function loadLatestCommitted(dir: string, options: LoadOptions): Promise<LoadedCheckpoint | undefined> {
  const log = options.log ?? ((level, message) => console.error(`${level}: ${message}`));
  const wanted = new Set(options.layers);
  for (const step of await listStepFolders(dir)) {
    if (options.step !== undefined && step !== options.step) continue;
    if (!(await exists(path.join(stepDir(dir, step), COMMIT_FILE)))) continue;
    const { manifests, problems, contents } = await verifyCommitted(dir, step, 'full', wanted);
    const first = manifests[0];
    if (problems.length === 0 && first) {
      const layerCount = first.partition.reduce((a, b) => a + b, 0);
      if (options.specHash !== undefined && first.specHash !== options.specHash) {
        throw new CheckpointMismatchError(
          `checkpoint step ${step} in ${dir} was written for a different run: its model, data or training settings differ (spec sha256 ${first.specHash.slice(0, 12)}…, this job's is ${options.specHash.slice(0, 12)}…); ` +
            'start fresh or use another checkpoint path',
        );
      }
      const outside = options.layers.filter((i) => !(Number.isSafeInteger(i) && i >= 0 && i < layerCount));
      if (outside.length > 0) throw new CheckpointMismatchError(`checkpoint step ${step} in ${dir} has ${layerCount} layers; cannot load layer(s) ${outside.join(', ')}`);
      const layers = decodeAll(stepDir(dir, step), contents, problems);
      if (layers) {
        const model = first.model === undefined ? {} : { model: first.model };
        return { step, layers, optimizer: first.optimizer, data: first.data, backend: first.backend, seed: first.seed, specHash: first.specHash, partition: first.partition, jobName: first.jobName, ...model };
      }
    }
    log('warn', `checkpoint step ${step} skipped: ${problems.join('; ')}`, { step, problems });
  }
  return undefined;
}

/** Decodes the verified layer files; a file that does not decode adds a problem and returns undefined. */
function decodeAll(folder: string, contents: Map<number, Buffer>, problems: string[]): Map<number, LayerState> | undefined {
  const layers = new Map<number, LayerState>();
  for (const [index, bytes] of contents) {
    const file = path.join(folder, layerFileName(index));
    try {
      const layer = decodeLayer(bytes);
      if (layer.layerIndex !== index) throw new Error(`holds layer ${layer.layerIndex}`);
      layers.set(index, layer);
    } catch (error) {
      problems.push(`${file}: ${(error as Error).message}`);
    }
  }
  return problems.length === 0 ? layers : undefined;
}

/**
 * The weight source the newest committed checkpoint records (StageSnapshot.source), read from its
 * first manifest without verifying the layers: it only names the run's identity, which loading
 * then checks (specHash). undefined when there is no such checkpoint or it records none.
 */
export async function latestRecordedSource(dir: string): Promise<RecordedSource | undefined> {
  for (const step of await listStepFolders(dir)) {
    const record = await readJsonFile(stepDir(dir, step), COMMIT_FILE, CommitRecordSchema).catch(() => undefined);
    const first = record?.value.manifests[0];
    if (!first) continue;
    const manifest = await readJsonFile(stepDir(dir, step), first.file, StageManifestSchema).catch(() => undefined);
    if (manifest) return manifest.value.source;
  }
  return undefined;
}

/** The newest commit record's step and time (one record, so they belong together); undefined when there is none. */
export async function latestCommit(dir: string): Promise<{ step: number; committedAt: string } | undefined> {
  for (const step of await listStepFolders(dir)) {
    const record = await readJsonFile(stepDir(dir, step), COMMIT_FILE, CommitRecordSchema).catch(() => undefined);
    if (record) return { step: record.value.step, committedAt: record.value.committedAt };
  }
  return undefined;
}
