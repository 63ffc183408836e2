// `pipetrain train --fresh`: start over instead of resuming. Checkpoints are the user's data, so
// existing ones are only deleted when --overwrite says so.
import { listStepFolders } from '../checkpoint/layout.ts';
import { removeStepFolder } from '../checkpoint/retention.ts';

export class FreshStartRefused extends Error {}

/** Deletes the step folders in `dir` when `overwrite`; refuses when there are some and it is not. */
export async function prepareFreshStart(dir: string, overwrite: boolean): Promise<number> {
  const steps = await listStepFolders(dir);
  if (steps.length === 0) return 0;
  if (!overwrite) {
    throw new FreshStartRefused(`${dir} holds ${steps.length} checkpoint folder(s) (newest: step ${steps[0]}); --fresh would discard them. ` +
      'Add --overwrite to delete them, or point spec.checkpoint.path elsewhere.');
  }
  for (const step of steps) await removeStepFolder(dir, step);
  return steps.length;
}
