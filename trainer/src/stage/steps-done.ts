// How far each stage got, kept next to the checkpoints so the next attempt can say exactly how many
// steps it trains again. A stage killed with SIGKILL writes nothing at the end, so the count is
// written after every step: one small file per stage, replaced by rename (a reader never sees half
// of it). Synchronous on purpose: once writeFileSync returns the bytes are in the kernel's page
// cache and survive the process being killed; no fsync, since a lost node loses the pod anyway.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** `<checkpoint dir>/steps-done-stage-<i>.json`; not a step folder, so the checkpoint store ignores it. */
export function stepsDoneFile(dir: string, stage: number): string {
  return path.join(dir, `steps-done-stage-${stage}.json`);
}

export interface StepsDone {
  steps: number;
  /** Loss of that step (the last stage only). */
  loss?: number;
}

/** Records that this stage has completed `steps` optimizer steps (best effort: a full disk must not stop training). */
export function recordStepsDone(dir: string, stage: number, steps: number, loss?: number): void {
  const file = stepsDoneFile(dir, stage);
  const temp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(temp, `${JSON.stringify({ stage, steps, loss })}\n`);
    renameSync(temp, file);
  } catch {
    // The count only improves a report; the checkpoints themselves are unaffected.
  }
}

/** Steps the previous run of this stage completed (and the loss of the last one); undefined when none is recorded. */
export function readStepsDone(dir: string, stage: number): StepsDone | undefined {
  try {
    const { steps, loss } = JSON.parse(readFileSync(stepsDoneFile(dir, stage), 'utf8')) as { steps?: unknown; loss?: unknown };
    if (typeof steps !== 'number' || !Number.isSafeInteger(steps) || steps < 0) return undefined;
    return typeof loss === 'number' && Number.isFinite(loss) ? { steps, loss } : { steps };
  } catch {
    return undefined;
  }
}

/** Steps trained again after resuming from `resumedFrom`: those done before it, past that checkpoint. */
export function recomputedSteps(doneBefore: number | undefined, resumedFrom: number): number | undefined {
  return doneBefore === undefined ? undefined : Math.max(0, doneBefore - resumedFrom);
}
