// Opens the weight source spec.model.from names, its paths resolved against the job file's folder
// (as spec.data and spec.checkpoint paths are).
import { isAbsolute, resolve } from 'node:path';
import type { ModelSource } from '../api/model-source-schema.ts';
import type { Log } from '../checkpoint/index.ts';
import type { VerifyMode } from '../checkpoint/verify.ts';
import { openCheckpointSource } from './checkpoint-source.ts';
import { openHuggingfaceSource } from './huggingface-source.ts';
import { openTfjsLayersSource } from './tfjs-layers-source.ts';
import { ModelSourceError, type WeightSource } from './weight-source.ts';

export function resolveSourcePath(path: string, baseDir: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

/** `verify: 'full'` hashes every layer of a checkpoint source when it is opened (the CLI's check; see checkpoint-source.ts). */
export async function openWeightSource(from: ModelSource, baseDir: string, log: Log, options: { verify?: VerifyMode } = {}): Promise<WeightSource> {
  if (from.checkpoint) return openCheckpointSource(resolveSourcePath(from.checkpoint.path, baseDir), { step: from.checkpoint.step, log, verify: options.verify });
  if (from.tfjsLayers !== undefined) return openTfjsLayersSource(resolveSourcePath(from.tfjsLayers, baseDir));
  if (from.huggingface !== undefined) return openHuggingfaceSource(resolveSourcePath(from.huggingface, baseDir));
  throw new ModelSourceError('spec.model.from: give one of checkpoint, tfjsLayers or huggingface');
}
