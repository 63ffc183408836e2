// listCheckpoints: what `pipetrain checkpoints PATH` shows. Every step folder with a commit record
// is listed (newest first), with whether it verifies and, if not, why.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { COMMIT_FILE, listStepFolders, stepDir } from './layout.ts';
import type { CheckpointInfo } from './types.ts';
import { verifyCommitted } from './verify.ts';

/**
 * Committed checkpoints, newest first; [] when `dir` does not exist. With `verify: false` layer
 * files are checked by size only (no hashing), which is fast even for large checkpoints.
 */
export async function listCheckpoints(dir: string, options: { verify?: boolean } = {}): Promise<CheckpointInfo[]> {
  const list: CheckpointInfo[] = [];
  for (const step of await listStepFolders(dir)) {
    if (!(await exists(path.join(stepDir(dir, step), COMMIT_FILE)))) continue;
    const { record, problems } = await verifyCommitted(dir, step, options.verify === false ? 'sizes' : 'full');
    list.push({
      step,
      committedAt: record?.committedAt ?? '',
      bytes: record?.bytes ?? 0,
      stages: record?.stages ?? 0,
      partition: record?.partition ?? [],
      backend: record?.backend ?? '',
      verified: problems.length === 0,
      problems,
    });
  }
  return list;
}

/** Steps with a folder but no commit record (being written, or abandoned by a failed write), newest first. */
export async function listUncommitted(dir: string): Promise<number[]> {
  const steps: number[] = [];
  for (const step of await listStepFolders(dir)) if (!(await exists(path.join(stepDir(dir, step), COMMIT_FILE)))) steps.push(step);
  return steps;
}

export async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
