// Every frame a stage may receive: from which neighbour, under which keys, and what each must
// look like. Every receive of the stage goes through here: it waits at most receiveTimeoutMs and
// passes the frame through checkFrame (expected-frames.ts). The links are screened as well, so a
// frame under a key the stage will never ask for is refused when it arrives (1008), not left in
// the mailbox while the stage waits for the key it should have had.
//
// Which steps may arrive early: the current one and the next, no other. The upstream stage can
// finish step s (and its evaluation) and send step s + 1 while this stage is still in step s, but
// it cannot finish step s + 1 before this stage sent it a frame of s + 1 that it waits for: the
// gradients of s + 1, or, for a frozen leading stage (no backward, so no gradients: schedule/
// frozen.ts), the squared sums of the norm exchange, which then runs at every OPT as a handshake
// (norm-exchange.ts). Downstream frames never run ahead of this stage's own activations. A step
// before the current one is over: every frame of it was due, and received, before the stage moved on.
import type { PipelineJobSpec } from '../api/schema.ts';
import { jobLayers } from '../model/expand.ts';
import { backwardFreeStages } from '../model/trainable.ts';
import { rangesFromSizes } from '../model/partition.ts';
import { inferLayerShapes } from '../model/shapes.ts';
import { FrameKind, ReceiveTimeoutError, type Frame, type Link } from '../transport/index.ts';
import { evaluationDue } from './evaluation.ts';
import { checkFrame, describeKey, describePeer, PeerFrameError, type FrameExpectation, type FrameKey, type Peer } from './expected-frames.ts';
import { NORM_DOWNSTREAM, normExchanged, SUMS_UPSTREAM } from './norm-exchange.ts';
import { tiedGradientShape, tiedRole, TOWARD_COPY, TOWARD_ORIGINAL } from './tied-weights.ts';

/**
 * How long a stage waits for a due frame by default, ms. Generous: the wait for a gradient spans
 * the forward and backward of every later stage, and a first step compiles kernels; a neighbour
 * that died or froze is caught within 10 s by the heartbeat watchdog (stage/peer-watchdog.ts), so
 * this only ends waits on a neighbour that is alive but never sends the frame.
 */
export const DEFAULT_RECEIVE_TIMEOUT_MS = 600_000;

/** The resume frame: the step, then spec.model.from's SHA-256 as 8 32-bit words (stage/resume-agreement.ts). */
export const RESUME_FRAME_ELEMENTS = 9;

export type Side = Peer['side'];

/** Receives the frames a stage's training code asks for (StageFrames; tests may wrap plain links). */
export interface FrameReceiver {
  receive(side: Side, kind: number, step: number, microBatch: number, timeoutMs?: number): Promise<Frame>;
}

export interface StageFramesSetup {
  /** The job's spec with the vocabulary filled in. */
  spec: PipelineJobSpec;
  partition: number[];
  stage: number;
  plan: { microBatchSize: number; totalSteps: number };
  /** The validation micro-batches, when the job evaluates during training. */
  evaluation?: { samples: number; microBatches: number };
  upstream?: Link;
  downstream?: Link;
  /** Default DEFAULT_RECEIVE_TIMEOUT_MS. */
  receiveTimeoutMs?: number;
}

/** A key's expectation, or the sentence why no frame is ever due under it. */
type Due = FrameExpectation | string;

export class StageFrames implements FrameReceiver {
  /** The step the stage is training or evaluating; undefined before training starts (frames of any step may arrive). */
  private current: number | undefined;
  private readonly setup: StageFramesSetup;
  private readonly receiveTimeoutMs: number;
  private readonly shapes: ReturnType<typeof boundaryShapes>;

  constructor(setup: StageFramesSetup) {
    const timeout = setup.receiveTimeoutMs ?? DEFAULT_RECEIVE_TIMEOUT_MS;
    if (!Number.isSafeInteger(timeout) || timeout <= 0) throw new TypeError(`receiveTimeoutMs must be a positive integer (ms), got ${timeout}`);
    this.setup = setup;
    this.receiveTimeoutMs = timeout;
    this.shapes = boundaryShapes(setup);
  }

  /** Screens both links with admit(): from now on, a frame no receive will ask for closes its link. */
  screenLinks(): this {
    this.setup.upstream?.screen((frame) => this.admit(frame, 'upstream'));
    this.setup.downstream?.screen((frame) => this.admit(frame, 'downstream'));
    return this;
  }

  /** The stage starts training `step`: frames of earlier steps are refused from now on. */
  enterStep(step: number): void {
    this.current = step;
  }

  /** Why an arriving frame is refused (the key is never due, or not now, or the frame does not fit it), or undefined. */
  admit(frame: Frame, side: Side): string | undefined {
    const peer = this.peer(side);
    const due = this.due(side, frame);
    const notNow = typeof due === 'string' ? due : this.window(frame);
    if (notNow !== undefined || typeof due === 'string') return `${describePeer(peer)} sent a ${describeKey(frame)}, which ${notNow ?? String(due)}`;
    try {
      checkFrame(frame, { ...frame, ...due }, peer);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  }

  /** The due frame for the key, checked; PeerFrameError when it does not fit or does not come within the timeout. */
  async receive(side: Side, kind: number, step: number, microBatch: number, timeoutMs = this.receiveTimeoutMs): Promise<Frame> {
    const key = { kind, step, microBatch };
    const peer = this.peer(side);
    const due = this.due(side, key);
    if (typeof due === 'string') throw new Error(`stage ${this.setup.stage} asked for a ${describeKey(key)} from ${describePeer(peer)}, which ${due}`);
    const link = side === 'upstream' ? this.setup.upstream : this.setup.downstream;
    if (!link) throw new Error(`stage ${this.setup.stage} has no ${side} neighbour to receive a ${describeKey(key)} from`);
    let frame: Frame;
    try {
      frame = await link.receive(kind, step, microBatch, timeoutMs);
    } catch (error) {
      if (!(error instanceof ReceiveTimeoutError)) throw error;
      throw new PeerFrameError(
        `no ${describeKey(key)} came from ${describePeer(peer)} within ${timeoutMs / 1000} s (receiveTimeoutMs): it kept the link open but sent that frame under another key or not at all`,
      );
    }
    return checkFrame(frame, { ...key, ...due }, peer);
  }

  private peer(side: Side): Peer {
    return { side, stage: this.setup.stage + (side === 'upstream' ? -1 : 1) };
  }

  /** What a frame under this key from `side` must look like, whatever the current step. */
  private due(side: Side, key: FrameKey): Due {
    const { spec, plan, evaluation, partition, stage } = this.setup;
    const { kind, step, microBatch } = key;
    const fromUpstream = side === 'upstream';
    if (kind === FrameKind.Heartbeat) return step === 0 ? { dtype: 'uint8', shape: [0] } : 'is never due: heartbeats are numbered under step 0';
    if (kind === FrameKind.Control) {
      if (!fromUpstream || step !== 0 || microBatch !== 0) return 'is never due: the only control frame is the resume step, from upstream, under step 0, micro-batch 0';
      return this.current === undefined ? { dtype: 'float64', shape: [RESUME_FRAME_ELEMENTS] } : `is not due: the resume step was agreed before training (this stage is at step ${this.current})`;
    }
    if (!Number.isInteger(step) || step >= plan.totalSteps) return `is never due: the run has steps 0 to ${plan.totalSteps - 1}`;
    const inRange = (count: number, what: string): Due | undefined =>
      microBatch < count ? undefined : `is never due: ${what} has micro-batches 0 to ${count - 1}`;
    switch (kind) {
      case FrameKind.Activation:
        if (!fromUpstream || !this.shapes.activation) return 'is never due: activations come from the upstream stage';
        return inRange(spec.pipeline.microBatches, 'a step') ?? { dtype: 'float32', shape: [plan.microBatchSize, ...this.shapes.activation] };
      case FrameKind.Gradient:
        if (fromUpstream || !this.shapes.gradient) return 'is never due: gradients come from the downstream stage';
        if (this.shapes.frozenLeading) return 'is never due: a frozen leading stage runs no backward (schedule/frozen.ts)';
        return inRange(spec.pipeline.microBatches, 'a step') ?? { dtype: 'float32', shape: [plan.microBatchSize, ...this.shapes.gradient] };
      case FrameKind.Evaluation: {
        if (!fromUpstream || !this.shapes.activation) return 'is never due: evaluation activations come from the upstream stage';
        if (!evaluation || !evaluationDue(spec, step, plan.totalSteps)) return `is never due: step ${step} is not evaluated`;
        // The last validation micro-batch may be short: the rows left over.
        const rows = Math.min(plan.microBatchSize, evaluation.samples - microBatch * plan.microBatchSize);
        return inRange(evaluation.microBatches, 'an evaluation') ?? { dtype: 'float32', shape: [rows, ...this.shapes.activation] };
      }
      case FrameKind.GradNorm:
        if (!normExchanged(spec, partition)) return 'is never due: the job does not clip gradients and has no frozen leading stage (norm-exchange.ts)';
        if (fromUpstream) return microBatch === NORM_DOWNSTREAM ? { dtype: 'float64', shape: [1] } : `is never due: the norm from upstream comes as micro-batch ${NORM_DOWNSTREAM}`;
        return microBatch === SUMS_UPSTREAM
          ? { dtype: 'float64', shape: [undefined], maxElements: this.shapes.downstreamParameters }
          : `is never due: squared sums from downstream come as micro-batch ${SUMS_UPSTREAM}`;
      case FrameKind.TiedGradient: {
        const role = tiedRole(spec, partition, stage);
        const direction = fromUpstream ? TOWARD_COPY : TOWARD_ORIGINAL;
        const receives = fromUpstream ? role === 'copy' || role === 'relay' : role === 'original' || role === 'relay';
        if (!receives || !this.shapes.tied) return `is never due: this stage (${role} of the tied weight) gets no tied gradient from ${side}`;
        return microBatch === direction ? { dtype: 'float32', shape: this.shapes.tied } : `is never due: a tied gradient from ${side} comes as micro-batch ${direction}`;
      }
      default:
        return 'is never due: stages do not exchange this kind';
    }
  }

  /** Undefined when the frame's step may arrive now (see the file comment), else why not. */
  private window(frame: Frame): string | undefined {
    const current = this.current;
    if (current === undefined || frame.kind === FrameKind.Heartbeat || frame.kind === FrameKind.Control) return undefined;
    if (frame.step < current) return `is not due: step ${frame.step} is over (this stage is at step ${current})`;
    if (frame.step > current + 1) return `is not due: step ${frame.step} is more than one step ahead of this stage (step ${current})`;
    return undefined;
  }
}

/** Per-sample shapes at this stage's boundaries, the tied weight's shape, and the parameters below it. */
function boundaryShapes({ spec, partition, stage }: StageFramesSetup) {
  // Indexed by model layer, as the stage ranges are: repeated blocks expanded.
  const { outputShapes, parameterCounts } = inferLayerShapes(spec.model.inputShape, jobLayers(spec));
  const range = rangesFromSizes(partition)[stage]!;
  const last = stage === partition.length - 1;
  return {
    activation: range.from > 0 ? outputShapes[range.from - 1] : undefined,
    gradient: last ? undefined : outputShapes[range.to - 1],
    tied: tiedGradientShape(spec),
    // A frozen leading stage: before the first stage with something to train (schedule/frozen.ts).
    frozenLeading: stage < backwardFreeStages(spec, rangesFromSizes(partition)),
    // Squared sums from downstream: one per counted weight of the later stages, each of at least one parameter.
    downstreamParameters: parameterCounts.slice(range.to).reduce((a, b) => a + b, 0),
  };
}
