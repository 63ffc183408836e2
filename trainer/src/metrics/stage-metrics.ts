// Prometheus metrics of one pipeline stage (ecosystem.md §2): prefix `pipetrain_`, base units, counters
// ending in `_total`, histograms (never summaries) so series aggregate across stage pods.
// Every series carries `job` and `stage`; known label combinations are pre-initialised to 0.
import { STAGE_PHASES, type StagePhase, type StageStatus } from '../contract/index.ts';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface StageLabels {
  /** Name of the PipelineJob; becomes the `job` label. */
  job: string;
  /** 0-based stage index; becomes the `stage` label. */
  stage: number;
}

export interface StepObservation {
  /** 0-based index of the optimizer step that just finished (as `StepResult.step` numbers it). */
  step: number;
  /** Wall-clock duration of the step, seconds. */
  wallSeconds: number;
  /** Time this stage spent computing during the step, seconds. */
  computeSeconds: number;
  /** Time this stage spent waiting for its neighbours during the step (the bubble), seconds. */
  idleSeconds: number;
  /** Training samples the step consumed (the global batch size). */
  samples: number;
  /** Batch loss; only the last stage has it. */
  loss?: number;
  /** Validation loss, when this step was evaluated (last stage only). */
  valLoss?: number;
}

export const PEERS = ['upstream', 'downstream'] as const;
export type Peer = (typeof PEERS)[number];

export const PHASES = STAGE_PHASES;
export type Phase = StagePhase;

/** The hooks a transport link takes (`LinkEvents` in transport/link-api.ts, minus `log`). */
export interface LinkMetricEvents {
  /** A frame of `bytes` was written to the socket, `seconds` after send() was called. */
  onSent(bytes: number, seconds: number): void;
  /** A binary message of `bytes` arrived. */
  onReceived(bytes: number): void;
}

export interface StageMetrics {
  readonly registry: Registry;
  /** Records one finished step. Throws a TypeError on negative or non-finite values. */
  observeStep(o: StepObservation): void;
  /** Hooks to pass to the transport link that talks to `peer`. */
  linkEvents(peer: Peer): LinkMetricEvents;
  setPhase(phase: Phase): void;
  /** Snapshot for the `/status` endpoint. */
  status(): StageStatus;
  setTotalSteps(n: number): void;
}

export interface StageMetricsOptions {
  /** Also export prom-client's default process metrics (no prefix, with job/stage labels). Default true. */
  collectDefault?: boolean;
  /** Clock in milliseconds since the epoch, for tests. Default `Date.now`. */
  now?: () => number;
}

/** Step durations from 5 ms (tiny test models) to 60 s (large models on CPU), seconds. */
export const STEP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];
/** Frame send durations from 100 µs (loopback, small frames) to 10 s (backpressure), seconds. */
export const SEND_DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const BASE_LABELS = ['job', 'stage'] as const;

/** Creates the metrics of one stage in a registry of its own (so tests may create several). */
export function createStageMetrics(labels: StageLabels, options: StageMetricsOptions = {}): StageMetrics {
  validateLabels(labels);
  const now = options.now ?? Date.now;
  const registry = new Registry();
  const base = { job: labels.job, stage: String(labels.stage) };
  const registers = [registry];

  const step = new Gauge({ name: 'pipetrain_step', help: 'Optimizer steps completed by this stage (1-based count of the last finished step).', labelNames: BASE_LABELS, registers });
  const totalSteps = new Gauge({ name: 'pipetrain_total_steps', help: 'Optimizer steps the job will run.', labelNames: BASE_LABELS, registers });
  const stepDuration = new Histogram({
    name: 'pipetrain_step_duration_seconds',
    help: 'Wall-clock duration of one optimizer step on this stage.',
    labelNames: BASE_LABELS,
    buckets: STEP_DURATION_BUCKETS,
    registers,
  });
  const samples = new Counter({ name: 'pipetrain_samples_total', help: 'Training samples processed.', labelNames: BASE_LABELS, registers });
  const loss = new Gauge({ name: 'pipetrain_loss', help: 'Loss of the last step (last stage only).', labelNames: BASE_LABELS, registers });
  const validationLoss = new Gauge({ name: 'pipetrain_validation_loss', help: 'Validation loss of the last evaluation, per sample (language models: per token; last stage only).', labelNames: BASE_LABELS, registers });
  const compute = new Counter({ name: 'pipetrain_stage_compute_seconds_total', help: 'Time this stage spent computing.', labelNames: BASE_LABELS, registers });
  const idle = new Counter({ name: 'pipetrain_stage_idle_seconds_total', help: 'Time this stage spent waiting for its neighbours (pipeline bubble).', labelNames: BASE_LABELS, registers });
  const transportBytes = new Counter({
    name: 'pipetrain_transport_bytes_total',
    help: 'Bytes sent to or received from a neighbouring stage, frame headers included.',
    labelNames: [...BASE_LABELS, 'direction', 'peer'],
    registers,
  });
  const sendDuration = new Histogram({
    name: 'pipetrain_transport_send_duration_seconds',
    help: 'Time from handing a frame to the link until the socket accepted it.',
    labelNames: [...BASE_LABELS, 'peer'],
    buckets: SEND_DURATION_BUCKETS,
    registers,
  });
  const phaseGauge = new Gauge({ name: 'pipetrain_stage_phase', help: 'Current phase of this stage (1 for the current phase, 0 for the others).', labelNames: [...BASE_LABELS, 'phase'], registers });
  const samplesPerSecond = new Gauge({ name: 'pipetrain_samples_per_second', help: 'Training throughput of the last step.', labelNames: BASE_LABELS, registers });
  const lastStepTimestamp = new Gauge({ name: 'pipetrain_last_step_timestamp_seconds', help: 'Unix time when the last step finished.', labelNames: BASE_LABELS, registers });

  // Pre-initialise every known series (all but the loss, which only the last stage has).
  const stepChild = step.labels(base);
  const totalStepsChild = totalSteps.labels(base);
  const samplesChild = samples.labels(base);
  const computeChild = compute.labels(base);
  const idleChild = idle.labels(base);
  const samplesPerSecondChild = samplesPerSecond.labels(base);
  const lastStepTimestampChild = lastStepTimestamp.labels(base);
  for (const gauge of [stepChild, totalStepsChild, samplesPerSecondChild, lastStepTimestampChild]) gauge.set(0);
  for (const counter of [samplesChild, computeChild, idleChild]) counter.inc(0);
  stepDuration.zero(base);
  const linkHooks = new Map<Peer, LinkMetricEvents>();
  for (const peer of PEERS) {
    const sent = transportBytes.labels({ ...base, direction: 'sent', peer });
    const received = transportBytes.labels({ ...base, direction: 'received', peer });
    const sendTime = sendDuration.labels({ ...base, peer });
    sent.inc(0);
    received.inc(0);
    sendDuration.zero({ ...base, peer });
    linkHooks.set(peer, {
      onSent: (bytes, seconds) => {
        sent.inc(nonNegative('bytes', bytes));
        sendTime.observe(nonNegative('seconds', seconds));
      },
      onReceived: (bytes) => received.inc(nonNegative('bytes', bytes)),
    });
  }
  const phaseChildren = new Map(PHASES.map((p) => [p, phaseGauge.labels({ ...base, phase: p })]));

  if (options.collectDefault ?? true) collectDefaultMetrics({ register: registry, labels: base });

  const state: Omit<StageStatus, 'job' | 'stage'> = {
    phase: 'starting',
    step: 0,
    totalSteps: null,
    loss: null,
    samplesPerSecond: null,
    lastStepAt: null,
    stepDurationSeconds: null,
  };

  const setPhase = (phase: Phase): void => {
    if (!phaseChildren.has(phase)) throw new TypeError(`phase must be one of ${PHASES.join(', ')}; got ${JSON.stringify(phase)}.`);
    for (const [p, child] of phaseChildren) child.set(p === phase ? 1 : 0);
    state.phase = phase;
  };
  setPhase('starting');

  return {
    registry,
    observeStep(o) {
      if (!Number.isInteger(o.step) || o.step < 0) throw new TypeError(`step must be a non-negative integer (the 0-based step index); got ${o.step}.`);
      const wall = nonNegative('wallSeconds', o.wallSeconds);
      const computeSeconds = nonNegative('computeSeconds', o.computeSeconds);
      const idleSeconds = nonNegative('idleSeconds', o.idleSeconds);
      const count = nonNegative('samples', o.samples);
      if (o.loss !== undefined && typeof o.loss !== 'number') throw new TypeError(`loss must be a number when given; got ${typeof o.loss}.`);
      const finishedAt = now();
      const throughput = wall > 0 ? count / wall : null;

      stepChild.set(o.step + 1);
      stepDuration.observe(base, wall);
      samplesChild.inc(count);
      computeChild.inc(computeSeconds);
      idleChild.inc(idleSeconds);
      if (throughput !== null) samplesPerSecondChild.set(throughput);
      lastStepTimestampChild.set(finishedAt / 1000);
      if (o.loss !== undefined) loss.set(base, o.loss);
      if (o.valLoss !== undefined) validationLoss.set(base, o.valLoss);

      state.step = o.step + 1;
      state.stepDurationSeconds = wall;
      state.samplesPerSecond = throughput;
      state.lastStepAt = new Date(finishedAt).toISOString();
      if (o.loss !== undefined) state.loss = o.loss;
    },
    linkEvents(peer) {
      const hooks = linkHooks.get(peer);
      if (!hooks) throw new TypeError(`peer must be one of ${PEERS.join(', ')}; got ${JSON.stringify(peer)}.`);
      return hooks;
    },
    setPhase,
    status() {
      return { job: labels.job, stage: labels.stage, ...state };
    },
    setTotalSteps(n) {
      if (!Number.isInteger(n) || n < 0) throw new TypeError(`totalSteps must be a non-negative integer; got ${n}.`);
      totalStepsChild.set(n);
      state.totalSteps = n;
    },
  };
}

function validateLabels(labels: StageLabels): void {
  if (typeof labels.job !== 'string' || labels.job.length === 0) throw new TypeError(`labels.job must be a non-empty string; got ${JSON.stringify(labels.job)}.`);
  if (!Number.isInteger(labels.stage) || labels.stage < 0) throw new TypeError(`labels.stage must be a non-negative integer; got ${labels.stage}.`);
}

function nonNegative(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TypeError(`${name} must be a finite number >= 0; got ${value}.`);
  return value;
}
