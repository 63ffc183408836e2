// Metrics of the local supervisor (`pipetrain train --metrics-port`): restarts and recovery.
import { Counter, Histogram, Registry } from 'prom-client';
import type { RestartReason } from './restart-policy.ts';

const REASONS: RestartReason[] = ['exit', 'signal', 'peer-lost', 'stalled', 'invalid-job'];
/** Failure detected → first step completed after the resume: 100 ms … 10 min, seconds. */
const RECOVERY_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 30, 60, 120, 300, 600];

export interface SupervisorMetrics {
  readonly registry: Registry;
  restarted(reason: RestartReason): void;
  recovered(seconds: number): void;
  lostSteps(steps: number): void;
}

export function createSupervisorMetrics(job: string): SupervisorMetrics {
  const registry = new Registry();
  const registers = [registry];
  const restarts = new Counter({ name: 'pipetrain_restarts_total', help: 'Pipeline restarts from the last committed checkpoint, by cause.', labelNames: ['job', 'reason'], registers });
  const recovery = new Histogram({ name: 'pipetrain_recovery_duration_seconds', help: 'From a detected failure to the first step completed after the resume.', labelNames: ['job'], buckets: RECOVERY_BUCKETS, registers });
  const lost = new Counter({ name: 'pipetrain_lost_steps_total', help: 'Steps computed again after restarts (done before the failure, after the resumed checkpoint).', labelNames: ['job'], registers });
  for (const reason of REASONS) restarts.inc({ job, reason }, 0);
  lost.inc({ job }, 0);
  return {
    registry,
    restarted: (reason) => restarts.inc({ job, reason }),
    recovered: (seconds) => recovery.observe({ job }, seconds),
    lostSteps: (steps) => lost.inc({ job }, steps),
  };
}
