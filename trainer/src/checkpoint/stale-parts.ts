// A restarted stage's parts of steps its previous life wrote but never saw committed. They describe
// the same run, so without this a neighbour that rewrites its own part could commit the step with
// this stage's old manifest, and the old manifest's later replacement would then no longer match the
// commit record. Each stage removes only its own manifest, and only before it trains again: its
// neighbours cannot reach those steps without it, so no commit can pick the stale part up meanwhile.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { manifestFileName, stepDir } from './layout.ts';
import { listUncommitted } from './list.ts';

/** Removes `stage`'s manifest from every uncommitted step folder newer than `resumedStep`; returns those steps. */
export async function discardStaleParts(dir: string, resumedStep: number, stage: number, stages: number): Promise<number[]> {
  const stale = (await listUncommitted(dir)).filter((step) => step > resumedStep);
  for (const step of stale) {
    // A plain file where a step folder should be (it makes that step's write fail) holds no part.
    await rm(path.join(stepDir(dir, step), manifestFileName(stage, stages)), { force: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOTDIR') throw error;
    });
  }
  return stale;
}
