// `pipetrain train`: runs every stage of a job as a process on this machine, connected over
// loopback, supervises them, and reports progress and a final summary.
import { randomBytes } from 'node:crypto';
import { loadJobData } from '../data/load.ts';
import type { PipelineJob } from '../spec/schema.ts';
import { StageExit, type StageConfig, type StageToSupervisor } from '../stage/protocol.ts';
import { initBackend } from '../tf/backend.ts';
import { weightsDigest, type WeightBytes } from '../train/digest.ts';
import { evaluate } from './evaluate.ts';
import { planPartition } from './partition-plan.ts';
import type { ProgressReporter } from './progress.ts';
import { startStage, type StageProcess } from './stage-processes.ts';

export interface RunSummary {
  status: 'Succeeded' | 'Failed';
  steps: number;
  loss?: number;
  valAccuracy?: number;
  valLoss?: number;
  samplesPerSecond: number;
  weightsSha256?: string;
  stages: number;
  partition: number[];
  backend: string;
  durationSeconds: number;
  error?: string;
}

export interface RunOptions {
  job: PipelineJob;
  baseDir: string;
  reporter: ProgressReporter;
  /** Show the stages' info-level log lines, not only warnings and errors. */
  verbose?: boolean;
}

export class StageFailure extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

export async function runLocal(options: RunOptions): Promise<RunSummary> {
  const { job, reporter } = options;
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  let base = { stages: 0, partition: [] as number[], backend: job.spec.training.backend as string };
  let supervisor: Supervisor | undefined;
  try {
    const backend = await initBackend(job.spec.training.backend);
    const plan = planPartition(job.spec);
    base = { stages: plan.sizes.length, partition: plan.sizes, backend: backend.choice };
    const data = await loadJobData(job.spec, options.baseDir);
    reporter.info(`Training ${job.metadata.name}`, {
      stages: plan.sizes.length, partition: plan.sizes.join('+'), how: plan.reason, schedule: job.spec.pipeline.schedule,
      microBatches: job.spec.pipeline.microBatches, backend: backend.choice, trainSamples: data.train.count, validationSamples: data.validation.count,
    });
    supervisor = new Supervisor(options, plan.sizes);
    const result = await supervisor.run();
    const evaluation = evaluate(job.spec, result.weights, data.validation);
    return {
      status: 'Succeeded', ...base, steps: result.steps, loss: result.loss, valAccuracy: evaluation.accuracy, valLoss: evaluation.loss,
      samplesPerSecond: result.samplesPerSecond, weightsSha256: weightsDigest(result.weights), durationSeconds: elapsed(),
    };
  } catch (error) {
    return { status: 'Failed', ...base, steps: supervisor?.stepsDone ?? 0, samplesPerSecond: 0, durationSeconds: elapsed(), error: (error as Error).message };
  }
}

interface TrainingResult {
  weights: WeightBytes[];
  steps: number;
  loss?: number;
  samplesPerSecond: number;
}

/** Starts the stage processes, wires their links, follows their progress, stops them all on failure. */
class Supervisor {
  stepsDone = 0;
  private readonly processes: StageProcess[] = [];
  private readonly weights = new Map<number, WeightBytes[]>();
  private readonly failures = new Map<number, StageToSupervisor & { type: 'failed' }>();
  private totalSteps = 0;
  private trainingStarted = 0;
  private lastLoss: number | undefined;
  private readonly token = randomBytes(32).toString('hex');

  constructor(private readonly options: RunOptions, private readonly partition: number[]) {}

  async run(): Promise<TrainingResult> {
    const interrupted = new Promise<never>((_, reject) => {
      const onSignal = (signal: NodeJS.Signals) => reject(new StageFailure(`interrupted by ${signal}`, 130));
      process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    });
    try {
      this.partition.forEach((_, stage) => this.processes.push(startStage(this.config(stage), this.token, {
        onMessage: (message) => this.onMessage(message),
        onLogLine: (s, line) => this.onLogLine(s, line),
      })));
      await Promise.race([Promise.all(this.processes.map((p) => this.awaitSuccess(p))), interrupted]);
    } finally {
      this.options.reporter.close();
      await Promise.all(this.processes.map((p) => p.stop()));
    }
    const elapsed = (performance.now() - this.trainingStarted) / 1000;
    return {
      weights: [...this.weights.keys()].sort((a, b) => a - b).flatMap((stage) => this.weights.get(stage)!),
      steps: this.stepsDone,
      loss: this.lastLoss,
      samplesPerSecond: (this.stepsDone * this.options.job.spec.data.batchSize) / elapsed,
    };
  }

  private config(stage: number): StageConfig {
    return {
      job: this.options.job, stage, partition: this.partition, baseDir: this.options.baseDir,
      listenHost: '127.0.0.1', listenPort: 0, metricsHost: '127.0.0.1', metricsPort: 0,
    };
  }

  /** Resolves when the stage exits 0 after reporting its weights; rejects with the stage's reason otherwise. */
  private async awaitSuccess(stage: StageProcess): Promise<void> {
    const { code, signal } = await stage.exited;
    if (code === StageExit.Succeeded && this.weights.has(stage.stage)) return;
    const reported = this.failures.get(stage.stage);
    const cause = reported ? reported.message : signal ? `killed by ${signal}` : `exited with code ${code}`;
    throw new StageFailure(`stage ${stage.stage} failed: ${cause}`, reported?.exitCode ?? code ?? StageExit.Failed);
  }

  private onMessage(message: StageToSupervisor): void {
    switch (message.type) {
      case 'listening':
        // The upstream neighbour connects to this stage's link server.
        if (message.stage > 0) this.processes[message.stage - 1]?.send({ type: 'connect', url: `ws://127.0.0.1:${message.linkPort}` });
        break;
      case 'training':
        this.totalSteps = message.totalSteps;
        this.trainingStarted ||= performance.now();
        break;
      case 'step':
        if (message.stage === this.partition.length - 1) this.onLastStageStep(message);
        break;
      case 'finished':
        this.weights.set(message.stage, message.weights);
        break;
      case 'failed':
        this.failures.set(message.stage, message);
        break;
    }
  }

  private onLastStageStep(message: StageToSupervisor & { type: 'step' }): void {
    this.stepsDone = message.step + 1;
    this.lastLoss = message.loss;
    const elapsed = (performance.now() - this.trainingStarted) / 1000;
    const samplesPerSecond = (this.stepsDone * this.options.job.spec.data.batchSize) / elapsed;
    const etaSeconds = (elapsed / this.stepsDone) * (this.totalSteps - this.stepsDone);
    this.options.reporter.step({ step: this.stepsDone, totalSteps: this.totalSteps, loss: message.loss, samplesPerSecond, etaSeconds });
  }

  /** Stage logs are JSON lines; warnings and errors are shown, info only with --verbose. */
  private onLogLine(stage: number, line: string): void {
    let entry: { level?: string; message?: string } & Record<string, unknown>;
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      this.options.reporter.warn(`[stage ${stage}] ${line}`);
      return;
    }
    const { level, message, time: _time, job: _job, stage: _stage, ...fields } = entry;
    if (level === 'warn' || level === 'error') this.options.reporter.warn(`[stage ${stage}] ${message}`, fields);
    else if (this.options.verbose) this.options.reporter.info(`[stage ${stage}] ${message}`, fields);
  }
}
