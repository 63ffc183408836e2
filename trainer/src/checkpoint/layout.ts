// Names of the files of a checkpoint directory:
//   <dir>/step-000000120/layer-0003.bin       one per layer (weights + optimizer slots), see format.ts
//   <dir>/step-000000120/stage-1-of-4.json    one per stage, written last by that stage (manifest.ts)
//   <dir>/step-000000120/COMMITTED.json       the commit record: the step counts only once it exists
// Steps are zero-padded to 9 digits so that names sort like numbers.
import { readdir } from 'node:fs/promises';
import path from 'node:path';

export const COMMIT_FILE = 'COMMITTED.json';
const STEP_DIR = /^step-(\d{9,})$/;

export function stepDirName(step: number): string {
  return `step-${String(step).padStart(9, '0')}`;
}

export function stepDir(dir: string, step: number): string {
  return path.join(dir, stepDirName(step));
}

export function layerFileName(layerIndex: number): string {
  return `layer-${String(layerIndex).padStart(4, '0')}.bin`;
}

/** `stage` is the 0-based index; the name uses the ordinal ("stage 1 of 4" is stage 0). */
export function manifestFileName(stage: number, stages: number): string {
  return `stage-${stage + 1}-of-${stages}.json`;
}

/** A unique temporary name in the same folder, so rename() over the final name is atomic. Dot-prefixed: never matches a real file. */
export function tempName(name: string): string {
  return `.${name}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Steps that have a folder (committed or not), newest first; [] when `dir` does not exist. */
export async function listStepFolders(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const steps: number[] = [];
  for (const name of names) {
    const match = STEP_DIR.exec(name);
    if (match) steps.push(Number(match[1]));
  }
  return steps.sort((a, b) => b - a);
}

/** Global layer indices of a stage: the partition slice it covers. */
export function stageLayers(partition: number[], stage: number): number[] {
  const first = partition.slice(0, stage).reduce((a, b) => a + b, 0);
  return Array.from({ length: partition[stage] ?? 0 }, (_, i) => first + i);
}
