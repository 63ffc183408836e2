// The local supervisor: starts one process per stage, wires their links, follows their progress,
// and on any failure stops every stage and starts them all again; each resumes from the newest
// committed checkpoint by itself. Gives up on a permanent failure or when the restarts are spent.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { latestCommittedStep } from '../checkpoint/index.ts';
import type { PipelineJob } from '../api/schema.ts';
import { type StageToSupervisor } from '../stage/protocol.ts';
import { maxRestartsOf, RestartReasons, StageExit, type StageConfig } from '../contract/index.ts';
import type { WeightBytes } from '../train/digest.ts';
import type { ProgressReporter } from './progress-output.ts';
import { classifyExit, decideRestart, type FailureReport } from './restart-policy.ts';
import { startStage, type StageProcess } from './fork-stages.ts';
import type { SupervisorMetrics } from './supervisor-metrics.ts';

/** Extra time a stage has for its first heartbeat after `start`, in ms (see runAttempt). */
const FIRST_HEARTBEAT_GRACE_MS = 60_000;

type StepMessage = StageToSupervisor & { type: 'step' };

export interface SupervisorOptions {
  job: PipelineJob;
  baseDir: string;
  partition: number[];
  reporter: ProgressReporter;
  metrics: SupervisorMetrics;
  /** Resolved checkpoint folder, if the job has one (for the final error message). */
  checkpointDir?: string;
  /** A stage that sends nothing (not even its 1 s heartbeat) for this long has stalled. */
  stallTimeoutMs: number;
  verbose?: boolean;
  onStageStep?: (message: StepMessage) => void;
}

export interface TrainingResult {
  weights: WeightBytes[];
  steps: number;
  loss?: number;
  samplesPerSecond: number;
  /** Validation loss of the last evaluation (see spec.training.evalEverySteps). */
  valLoss?: number;
  restarts: number;
  lostSteps: number;
  resumedFrom: number;
}

export class SupervisorError extends Error {}

/** The run was stopped by SIGINT/SIGTERM: every stage was stopped too. */
export class InterruptedError extends SupervisorError {}

export class Supervisor {
  stepsDone = 0;
  restarts = 0;
  lostSteps = 0;
  private readonly token = randomBytes(32).toString('hex');
  private processes: StageProcess[] = [];
  /**
   * Hot standby: a second set of stage processes, booted (backend loaded, data read) and waiting.
   * After a failure it takes over at once, so recovery does not pay process start-up (seconds).
   */
  private standby: StageProcess[] | undefined;
  private weights = new Map<number, WeightBytes[]>();
  private reported = new Map<number, StageToSupervisor & { type: 'failed' }>();
  private lastHeard = new Map<number, number>();
  /** Stages of the running attempt that have sent anything since `start` (the grace no longer applies). */
  private spoken = new Set<number>();
  private totalSteps = 0;
  private firstResume = -1;
  private measuredFrom = { time: 0, step: 0 };
  private lastLoss: number | undefined;
  private lastValLoss: number | undefined;
  /** Set when a failure was detected; cleared by the first step of the next attempt. */
  private recovering: { detectedAt: number; stepsBefore: number } | undefined;

  private readonly options: SupervisorOptions;

  constructor(options: SupervisorOptions) {
    this.options = options;
  }

  async run(): Promise<TrainingResult> {
    let interrupt: (signal: NodeJS.Signals) => void = () => {};
    const interrupted = new Promise<never>((_, reject) => (interrupt = (signal) => reject(new InterruptedError(`interrupted by ${signal}`))));
    process.on('SIGINT', interrupt).on('SIGTERM', interrupt);
    try {
      for (;;) {
        const failure = await Promise.race([this.runAttempt(), interrupted]);
        if (!failure) return this.result();
        // Ctrl-C during the back-off stops at once instead of starting the next attempt first.
        await Promise.race([this.handleFailure(failure), interrupted]);
      }
    } finally {
      process.off('SIGINT', interrupt).off('SIGTERM', interrupt);
      this.options.reporter.close();
      await this.stopAll();
    }
  }

  private async handleFailure(failure: FailureReport): Promise<void> {
    const { job, reporter, metrics } = this.options;
    const maxRestarts = maxRestartsOf(job.spec.failurePolicy);
    const decision = decideRestart(failure, this.restarts, maxRestarts);
    if (!decision.restart || failure.reason === 'permanent') {
      const committed = this.options.checkpointDir ? await latestCommittedStep(this.options.checkpointDir).catch(() => undefined) : undefined;
      const last = committed === undefined ? 'no committed checkpoint' : `last committed checkpoint: step ${committed}`;
      throw new SupervisorError(`stage ${failure.stage} failed: ${failure.cause}; not restarting: ${decision.why} (${last})`);
    }
    this.restarts++;
    metrics.restarted(failure.reason);
    this.recovering = { detectedAt: performance.now(), stepsBefore: this.stepsDone };
    reporter.warn(`stage ${failure.stage} failed: ${failure.cause}; restarting every stage from the last committed checkpoint in ${decision.delaySeconds} s (restart ${this.restarts} of ${maxRestarts})`);
    await sleep(decision.delaySeconds * 1000);
  }

  /** Resolves undefined when every stage succeeded, or with the first failure (all stages stopped). */
  private async runAttempt(): Promise<FailureReport | undefined> {
    this.weights = new Map();
    this.reported = new Map();
    this.processes = (await this.takeStandby()) ?? this.startSet();
    this.spoken.clear();
    for (const [stage] of this.processes.entries()) this.lastHeard.set(stage, performance.now());
    for (const p of this.processes) p.send({ type: 'start' });
    if (maxRestartsOf(this.options.job.spec.failurePolicy) > this.restarts) this.standby = this.startSet();
    let stallTimer: NodeJS.Timeout | undefined;
    const stalled = new Promise<FailureReport>((resolve) => {
      stallTimer = setInterval(() => {
        for (const [stage, heard] of this.lastHeard) {
          const silentMs = performance.now() - heard;
          // Until its first message a stage may be starting Node and loading its modules (TensorFlow's
          // libraries alone are ~400 MB): slow on a busy machine, not a stall, so it gets a grace.
          const limitMs = this.options.stallTimeoutMs + (this.spoken.has(stage) ? 0 : FIRST_HEARTBEAT_GRACE_MS);
          if (silentMs > limitMs) resolve({ stage, reason: RestartReasons.StageStalled, cause: `no heartbeat for ${Math.round(silentMs / 1000)} s` });
        }
      }, 500);
    });
    try {
      const outcomes = this.processes.map((p) => this.outcome(p));
      // Every stage exited: undefined when all succeeded. Any stage failed: that failure, at once.
      const allExited = Promise.all(outcomes).then((all) => all.find((failure) => failure !== undefined));
      const firstFailure = Promise.race(outcomes.map((o) => o.then((failure) => failure ?? never())));
      return await Promise.race([allExited, firstFailure, stalled]);
    } finally {
      clearInterval(stallTimer);
      await Promise.all(this.processes.map((p) => p.stop()));
    }
  }

  /** undefined when the stage exited 0 after reporting its weights; otherwise why it failed. */
  private async outcome(stage: StageProcess): Promise<FailureReport | undefined> {
    const { code, signal } = await stage.exited;
    if (code === StageExit.Succeeded && this.weights.has(stage.stage)) return undefined;
    const reported = this.reported.get(stage.stage);
    const reason = classifyExit(code, signal);
    const cause = signal ? `killed by ${signal}` : reported ? `${reported.message} (exit code ${code})` : `exited with code ${code}`;
    return { stage: stage.stage, reason, cause, exitCode: code ?? undefined };
  }

  private async stopAll(): Promise<void> {
    await Promise.all([...this.processes, ...(this.standby ?? [])].map((p) => p.stop()));
  }

  /** A set of stage processes that boot and wait for `start`; only the active set's messages count. */
  private startSet(): StageProcess[] {
    const set: StageProcess[] = this.options.partition.map((_, stage) =>
      startStage({ ...this.config(stage), waitForStart: true }, this.token, {
        onMessage: (m) => set === this.processes && this.onMessage(m),
        onLogLine: (s, line) => set === this.processes && this.onLogLine(s, line),
      }),
    );
    return set;
  }

  /** The standby set, if every process of it is still alive. */
  private async takeStandby(): Promise<StageProcess[] | undefined> {
    const standby = this.standby;
    this.standby = undefined;
    if (!standby) return undefined;
    if (standby.every((p) => p.child.exitCode === null && p.child.signalCode === null)) return standby;
    await Promise.all(standby.map((p) => p.stop()));
    return undefined;
  }

  private result(): TrainingResult {
    const elapsed = (performance.now() - this.measuredFrom.time) / 1000;
    return {
      weights: [...this.weights.keys()].sort((a, b) => a - b).flatMap((stage) => this.weights.get(stage)!),
      steps: this.stepsDone,
      loss: this.lastLoss,
      samplesPerSecond: ((this.stepsDone - this.measuredFrom.step) * this.options.job.spec.data.batchSize) / Math.max(elapsed, 1e-9),
      valLoss: this.lastValLoss,
      restarts: this.restarts,
      lostSteps: this.lostSteps,
      resumedFrom: Math.max(0, this.firstResume),
    };
  }

  private config(stage: number): StageConfig {
    return {
      job: this.options.job, stage, partition: this.options.partition, baseDir: this.options.baseDir,
      listenHost: '127.0.0.1', listenPort: 0, metricsHost: '127.0.0.1', metricsPort: 0,
    };
  }

  private onMessage(message: StageToSupervisor): void {
    this.lastHeard.set(message.stage, performance.now());
    this.spoken.add(message.stage);
    const lastStage = this.options.partition.length - 1;
    switch (message.type) {
      case 'listening':
        // The upstream neighbour connects to this stage's link server.
        if (message.stage > 0) this.processes[message.stage - 1]?.send({ type: 'connect', url: `ws://127.0.0.1:${message.linkPort}` });
        break;
      case 'training':
        if (message.stage === lastStage) this.onTrainingStarted(message.totalSteps, message.startStep);
        break;
      case 'step':
        this.options.onStageStep?.(message);
        if (message.stage === lastStage) this.onLastStageStep(message);
        break;
      case 'finished':
        this.weights.set(message.stage, message.weights);
        break;
      case 'failed':
        this.reported.set(message.stage, message);
        break;
      case 'heartbeat':
      case 'ready':
        break;
    }
  }

  private onTrainingStarted(totalSteps: number, startStep: number): void {
    this.totalSteps = totalSteps;
    this.stepsDone = startStep;
    this.measuredFrom = { time: performance.now(), step: startStep };
    if (this.firstResume < 0) {
      this.firstResume = startStep;
      if (startStep > 0) this.options.reporter.info(`Resumed from the checkpoint of step ${startStep} in ${this.options.checkpointDir}`);
    } else {
      const lost = Math.max(0, (this.recovering?.stepsBefore ?? startStep) - startStep);
      this.lostSteps += lost;
      this.options.metrics.lostSteps(lost);
      this.options.reporter.info(`Resumed from step ${startStep}`, { lostSteps: lost });
    }
  }

  private onLastStageStep(message: StepMessage): void {
    this.stepsDone = message.step + 1;
    this.lastLoss = message.loss;
    if (message.valLoss !== undefined) this.lastValLoss = message.valLoss;
    if (this.recovering) {
      this.options.metrics.recovered((performance.now() - this.recovering.detectedAt) / 1000);
      this.recovering = undefined;
    }
    const elapsed = (performance.now() - this.measuredFrom.time) / 1000;
    const done = this.stepsDone - this.measuredFrom.step;
    const samplesPerSecond = (done * this.options.job.spec.data.batchSize) / elapsed;
    const etaSeconds = (elapsed / done) * (this.totalSteps - this.stepsDone);
    const { spec } = this.options.job;
    const tokensPerSecond = spec.data.dataset.type === 'tokens' || spec.data.dataset.type === 'sft' ? samplesPerSecond * spec.model.inputShape[0]! : undefined;
    this.options.reporter.step({ step: this.stepsDone, totalSteps: this.totalSteps, loss: message.loss, samplesPerSecond, tokensPerSecond, valLoss: message.valLoss, etaSeconds });
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

function never(): Promise<never> {
  return new Promise(() => {});
}
