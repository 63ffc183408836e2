// Metrics of the local supervisor (`pipetrain train --metrics-port`): restarts and recovery, with the
// operator's reason names and buckets (trainer/src/contract/restart-policy.ts).
import { Counter, Histogram, Registry } from 'prom-client';
import { RECOVERY_BUCKETS, RESTART_REASONS, type RestartReason } from '../contract/index.ts';

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
  const recovery = new Histogram({ name: 'pipetrain_recovery_duration_seconds', help: 'From a detected failure to the first step completed after the resume.', labelNames: ['job'], buckets: [...RECOVERY_BUCKETS], registers });
  const lost = new Counter({ name: 'pipetrain_lost_steps_total', help: 'Steps computed again after restarts (done before the failure, after the resumed checkpoint).', labelNames: ['job'], registers });
  for (const reason of RESTART_REASONS) restarts.inc({ job, reason }, 0);
  lost.inc({ job }, 0);
  return {
    registry,
    restarted: (reason) => restarts.inc({ job, reason }),
    recovered: (seconds) => recovery.observe({ job }, seconds),
    lostSteps: (steps) => lost.inc({ job }, steps),
  };
}
