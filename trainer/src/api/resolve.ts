// Small derived values of a validated job that several components need the same way.
import { dirname, isAbsolute, resolve } from 'node:path';
import type { DatasetSpec, PipelineJobSpec } from './schema.ts';

/** A `file` dataset's path, resolved against the folder of the job file (absolute paths unchanged). */
export function resolveDatasetPath(dataset: DatasetSpec, jobFile: string): DatasetSpec {
  if (dataset.type !== 'file' || isAbsolute(dataset.path)) return dataset;
  return { ...dataset, path: resolve(dirname(jobFile), dataset.path) };
}

/** Number of pipeline stages: `partition.length` when a partition is given, else `stages`. */
export function stageCount(pipeline: PipelineJobSpec['pipeline']): number {
  return pipeline.partition?.length ?? pipeline.stages ?? 1;
}
