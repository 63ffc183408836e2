// Checkpoint metrics of a stage, registered next to its other metrics.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WriteResult } from '../checkpoint/index.ts';
import type { StageLabels } from './stage-metrics.ts';

/** Checkpoint write durations from 10 ms (tiny models) to 5 min (large models on slow volumes), seconds. */
export const CHECKPOINT_DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export interface CheckpointMetrics {
  /** Records one finished write of this stage's part. */
  observeWrite(result: WriteResult): void;
  /** The newest committed checkpoint this stage knows of (whichever stage wrote its commit record). */
  observeCommit(commit: { step: number; committedAt: string }): void;
}

/** `everySteps`: the job's checkpoint interval; undefined when checkpointing is off. */
export function createCheckpointMetrics(registry: Registry, labels: StageLabels, everySteps?: number): CheckpointMetrics {
  const registers = [registry];
  const labelNames = ['job', 'stage'] as const;
  const base = { job: labels.job, stage: String(labels.stage) };
  const duration = new Histogram({ name: 'pipetrain_checkpoint_duration_seconds', help: "Time to write this stage's part of a checkpoint (off the training path).", labelNames, buckets: CHECKPOINT_DURATION_BUCKETS, registers });
  const bytes = new Gauge({ name: 'pipetrain_checkpoint_bytes', help: "Size of this stage's part of the last checkpoint written.", labelNames, registers });
  const lastStep = new Gauge({ name: 'pipetrain_checkpoint_last_step', help: 'Step of the newest checkpoint this stage saw committed.', labelNames, registers });
  const lastTimestamp = new Gauge({ name: 'pipetrain_checkpoint_last_timestamp_seconds', help: 'Unix time of the newest checkpoint this stage saw committed.', labelNames, registers });
  const failures = new Counter({ name: 'pipetrain_checkpoint_failures_total', help: 'Checkpoint writes of this stage that failed (training went on).', labelNames, registers });
  // The stale-checkpoint alert compares the steps since the last commit with this interval.
  const interval = new Gauge({ name: 'pipetrain_checkpoint_interval_steps', help: 'Steps between checkpoints (spec.checkpoint.everySteps); absent when checkpointing is off.', labelNames, registers });
  if (everySteps !== undefined) interval.set(base, everySteps);
  failures.inc(base, 0);
  return {
    observeWrite(result) {
      if (!result.ok) {
        failures.inc(base);
        return;
      }
      duration.observe(base, result.info.seconds);
      bytes.set(base, result.info.bytes);
    },
    observeCommit(commit) {
      lastStep.set(base, commit.step);
      lastTimestamp.set(base, Date.parse(commit.committedAt) / 1000);
    },
  };
}
