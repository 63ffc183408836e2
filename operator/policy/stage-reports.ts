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
  checkpointStep?: number;
  checkpointAt?: string;
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
  const checkpointSteps = reports.map((r) => num(r?.checkpointStep)).filter((s): s is number => s !== undefined);
  return {
    attempt,
    // The pipeline is only as far as its slowest stage.
    step: known.length === reports.length && known.length > 0 ? Math.min(...known) : undefined,
    totalSteps: reports.map((r) => num(r?.totalSteps)).find((v) => v !== undefined),
    // Only the last stage computes the loss.
    loss: num(last?.loss),
    samplesPerSecond: num(last?.samplesPerSecond),
    // A checkpoint is committed when every stage has it: the oldest newest one.
    checkpointStep: checkpointSteps.length === reports.length && checkpointSteps.length > 0 ? Math.min(...checkpointSteps) : undefined,
    checkpointAt: reports.map((r) => r?.checkpointAt).find((v) => typeof v === 'string'),
    stageSteps: steps,
    readAt,
  };
}
