// GET /status of a stage (its metrics port): what the stage reports and the operator reads to write
// the PipelineJob's status. Unknown values are `null`.

export const STAGE_PHASES = ['starting', 'connecting', 'training', 'finished', 'failed'] as const;
export type StagePhase = (typeof STAGE_PHASES)[number];

export interface StageStatus {
  job: string;
  stage: number;
  phase: StagePhase;
  /** Optimizer steps completed (1-based count; 0 before the first step). */
  step: number;
  totalSteps: number | null;
  /** Loss of the last step; `null` before it and on every stage but the last. */
  loss: number | null;
  /** Samples per second of the last step. */
  samplesPerSecond: number | null;
  /** When the last step finished, ISO 8601. */
  lastStepAt: string | null;
  /** Wall-clock duration of the last step, seconds. */
  stepDurationSeconds: number | null;
  /** Newest checkpoint step this stage knows to be committed (by every stage), when there is one. */
  checkpointStep?: number;
  /** When that checkpoint was committed, ISO 8601. */
  checkpointAt?: string;
}
