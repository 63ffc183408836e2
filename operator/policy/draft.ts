// What one reconcile decided, accumulated as it goes and applied by the caller at the end: the
// new status (written once), the events (emitted only after that write succeeded, so a retried
// reconcile never duplicates them), a timed re-check, and facts for the metrics.
import type * as k8s from '@kubernetes/client-node';
import { setCondition, type ConditionInput } from './conditions.ts';
import type { JobStatus } from './status-types.ts';

export interface JobEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** Facts the controller turns into operator metrics once the status write succeeded. */
export interface Observations {
  restartReason?: string;
  /** Steps after the last checkpoint, to be trained again after this restart. */
  lostSteps?: number;
  /** Failure → noticed. */
  detectionSeconds?: number;
  /** Noticed → all stages running again. */
  recoverySeconds?: number;
  /** Noticed → every stage past the resumed checkpoint. */
  trainingAgainSeconds?: number;
}

/** Calls that change children. Implementations ignore AlreadyExists / NotFound: level-triggered. */
export interface ChildActions {
  createPod(pod: k8s.V1Pod): Promise<void>;
  deletePod(namespace: string, name: string, force: boolean): Promise<void>;
  createSecret(secret: k8s.V1Secret): Promise<void>;
  createService(service: k8s.V1Service): Promise<void>;
  createClaim(claim: k8s.V1PersistentVolumeClaim): Promise<void>;
  deleteJob(namespace: string, name: string): Promise<void>;
}

export class Draft {
  status: JobStatus;
  readonly events: JobEvent[] = [];
  readonly observations: Observations = {};
  requeueAfterMs?: number;

  readonly nowMs: number;
  readonly generation: number | undefined;

  constructor(
    current: JobStatus | undefined,
    nowMs: number,
    generation: number | undefined,
  ) {
    this.nowMs = nowMs;
    this.generation = generation;
    this.status = structuredClone(current ?? {});
    this.status.observedGeneration = generation;
  }

  get now(): string {
    return new Date(this.nowMs).toISOString();
  }

  condition(input: ConditionInput): void {
    this.status.conditions = setCondition(this.status.conditions ?? [], input, this.now, this.generation);
  }

  event(type: JobEvent['type'], reason: string, message: string): void {
    this.events.push({ type, reason, message });
  }

  /** Re-check after `ms` at the latest (the earliest request wins). */
  requeue(ms: number): void {
    const rounded = Math.max(0, Math.ceil(ms));
    this.requeueAfterMs = this.requeueAfterMs === undefined ? rounded : Math.min(this.requeueAfterMs, rounded);
  }
}
