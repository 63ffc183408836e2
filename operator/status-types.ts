// status of a PipelineJob, as the operator writes it (the CRD keeps status open for now; see
// docs/operator.md for the fields).
import type { ConditionType, Phase } from './constants.ts';

export interface Condition {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface StageStatus {
  stage: number;
  pod: string;
  node?: string;
  /** Pending, Running, Ready, Succeeded, Failed, Terminating or Missing. */
  state: string;
  step?: number;
}

export interface LastFailure {
  stage?: number;
  pod?: string;
  node?: string;
  reason: string;
  message: string;
  exitCode?: number;
  attempt: number;
  /** When the failure happened, where known (exit time, last node heartbeat). */
  failedAt?: string;
  detectedAt: string;
  recoveredAt?: string;
  /** Step reached before the failure (steps after the last checkpoint are trained again). */
  stepAtFailure?: number;
  lostSteps?: number;
}

export interface JobStatus {
  observedGeneration?: number;
  phase?: Phase;
  conditions?: Condition[];
  stages?: StageStatus[];
  stagesReady?: string;
  step?: number;
  totalSteps?: number;
  loss?: string;
  samplesPerSecond?: number;
  lastCheckpoint?: { step: number; time?: string };
  restarts?: number;
  /** Nodes the next attempt avoids (the node of the last failure). */
  avoidNodes?: string[];
  lastFailure?: LastFailure;
  startTime?: string;
  completionTime?: string;
}
