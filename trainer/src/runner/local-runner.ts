// `pipetrain train`: runs every stage of a job as a process on this machine, connected over
// loopback, supervises them (restarting from checkpoints), and reports progress and a summary.
import { resolve } from 'node:path';
import { loadJobData } from '../data/load.ts';
import type { PipelineJob } from '../api/schema.ts';
import type { StageToSupervisor } from '../stage/protocol.ts';
import { initBackend } from '../tf/backend.ts';
import { weightsDigest } from '../train/digest.ts';
import { evaluate } from './evaluate.ts';
import { profileLayerCosts } from '../model/profile.ts';
import { planPartition } from './partition-plan.ts';
import type { ProgressReporter } from './progress-output.ts';
import { InterruptedError, Supervisor } from './supervisor.ts';
import { createSupervisorMetrics, type SupervisorMetrics } from './supervisor-metrics.ts';

export interface RunSummary {
  status: 'Succeeded' | 'Failed';
  steps: number;
  loss?: number;
  valAccuracy?: number;
  valLoss?: number;
  samplesPerSecond: number;
  weightsSha256?: string;
  /** Pipeline restarts after failures, and the steps they made us compute again. */
  restarts: number;
  lostSteps: number;
  /** Step of the checkpoint this run resumed from (0: started fresh). */
  resumedFrom: number;
  stages: number;
  partition: number[];
  backend: string;
  durationSeconds: number;
  error?: string;
  /** True when SIGINT/SIGTERM stopped the run. */
  interrupted?: boolean;
}

export interface RunOptions {
  job: PipelineJob;
  baseDir: string;
  reporter: ProgressReporter;
  /** Show the stages' info-level log lines, not only warnings and errors. */
  verbose?: boolean;
  /** Every stage's step report (the benchmark reads the per-stage timings). */
  onStageStep?: (message: StageToSupervisor & { type: 'step' }) => void;
  /** Supervisor metrics (restarts, recovery); created when not given. */
  metrics?: SupervisorMetrics;
  /** Seconds without any message from a stage before it counts as stalled. Default 30. */
  stallTimeoutSeconds?: number;
}

export async function runLocal(options: RunOptions): Promise<RunSummary> {
  const { job, reporter } = options;
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  let base = { stages: 0, partition: [] as number[], backend: job.spec.training.backend as string };
  let supervisor: Supervisor | undefined;
  try {
    const backend = await initBackend(job.spec.training.backend);
    const plan = planPartition(job.spec, profileLayerCosts);
    base = { stages: plan.sizes.length, partition: plan.sizes, backend: backend.choice };
    const data = await loadJobData(job.spec, options.baseDir);
    reporter.info(`Training ${job.metadata.name}`, {
      stages: plan.sizes.length, partition: plan.sizes.join('+'), how: plan.reason, schedule: job.spec.pipeline.schedule,
      microBatches: job.spec.pipeline.microBatches, backend: backend.choice, trainSamples: data.train.count, validationSamples: data.validation.count,
    });
    const checkpointPath = job.spec.checkpoint?.path;
    supervisor = new Supervisor({
      job, baseDir: options.baseDir, partition: plan.sizes, reporter, verbose: options.verbose, onStageStep: options.onStageStep,
      metrics: options.metrics ?? createSupervisorMetrics(job.metadata.name),
      checkpointDir: checkpointPath ? resolve(options.baseDir, checkpointPath) : undefined,
      stallTimeoutMs: (options.stallTimeoutSeconds ?? 30) * 1000,
    });
    const result = await supervisor.run();
    const evaluation = evaluate(job.spec, result.weights, data.validation);
    return {
      status: 'Succeeded', ...base, steps: result.steps, loss: result.loss, valAccuracy: evaluation.accuracy, valLoss: evaluation.loss,
      samplesPerSecond: result.samplesPerSecond, weightsSha256: weightsDigest(result.weights), durationSeconds: elapsed(),
      restarts: result.restarts, lostSteps: result.lostSteps, resumedFrom: result.resumedFrom,
    };
  } catch (error) {
    return {
      status: 'Failed', ...base, steps: supervisor?.stepsDone ?? 0, samplesPerSecond: 0, durationSeconds: elapsed(),
      restarts: supervisor?.restarts ?? 0, lostSteps: supervisor?.lostSteps ?? 0, resumedFrom: 0, error: (error as Error).message,
      interrupted: error instanceof InterruptedError,
    };
  }
}

