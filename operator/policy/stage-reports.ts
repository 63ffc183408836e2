// Training progress as the stage pods report it on GET /status (trainer/src/contract), merged into
// one view of the job: a step counts once every stage has done it.
import type { StageStatus } from '../../trainer/src/contract/index.ts';

/** What the operator reads of a stage's GET /status (absent: the stage could not be reached). */
export type StageReport = Partial<StageStatus> & { stage: number };

export interface Progress {
  /** Attempt the reports belong to. */
  attempt: number;
  step?: number;
  totalSteps?: number;
  loss?: number;
  samplesPerSecond?: number;
  /** The newest checkpoint every stage knows committed, and its commit time (from the same commit). */
  checkpointStep?: number;
  checkpointAt?: string;
  /** Steps this attempt trains again (done before the restart, past the resumed checkpoint); see StageStatus. */
  recomputedSteps?: number;
  /** The checkpoint this attempt resumed from, and when it was committed (see StageStatus). */
  resumedFrom?: number;
  resumedCheckpointAt?: string;
  stageSteps: (number | undefined)[];
  /** When it was read, ms since the epoch. */
  readAt: number;
}

/** Merges the reports of one attempt; `reports[i]` is stage i's (undefined when unreachable). */
export function mergeReports(reports: (StageReport | undefined)[], attempt: number, readAt: number): Progress {
  const steps = reports.map((r) => (typeof r?.step === 'number' ? r.step : undefined));
  const known = steps.filter((s): s is number => s !== undefined);
  const last = reports.at(-1);
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const checkpoint = committedByAll(reports);
  const recomputed = reports.map((r) => num(r?.recomputedSteps));
  return {
    attempt,
    // The pipeline is only as far as its slowest stage.
    step: known.length === reports.length && known.length > 0 ? Math.min(...known) : undefined,
    totalSteps: reports.map((r) => num(r?.totalSteps)).find((v) => v !== undefined),
    // Only the last stage computes the loss.
    loss: num(last?.loss),
    samplesPerSecond: num(last?.samplesPerSecond),
    checkpointStep: checkpoint?.step,
    checkpointAt: checkpoint?.at,
    // The pipeline had done a step once every stage had: the fewest recomputed steps of any stage.
    // Every stage resumes from the same step (they agree on it before training).
    resumedFrom: reports.map((r) => num(r?.resumedFrom)).find((v) => v !== undefined),
    resumedCheckpointAt: reports.map((r) => r?.resumedCheckpointAt).find((v) => typeof v === 'string'),
    recomputedSteps: recomputed.length > 0 && recomputed.every((r) => r !== undefined) ? Math.min(...(recomputed as number[])) : undefined,
    stageSteps: steps,
    readAt,
  };
}

/**
 * The newest checkpoint every stage reports committed: the oldest of their newest (a stage may not
 * have seen the latest commit record yet), with the time of that same commit, never another's.
 */
function committedByAll(reports: (StageReport | undefined)[]): { step: number; at?: string } | undefined {
  const known = reports.map((r) => (typeof r?.checkpointStep === 'number' ? { step: r.checkpointStep, at: typeof r.checkpointAt === 'string' ? r.checkpointAt : undefined } : undefined));
  if (known.length === 0 || known.some((k) => k === undefined)) return undefined;
  const oldest = Math.min(...known.map((k) => k!.step));
  return { step: oldest, at: known.find((k) => k?.step === oldest && k.at !== undefined)?.at };
}
