// Frames that decode but break the stage protocol (trainer/src/train/stage-frames.ts), for the
// stage and link fuzzers: garbled evaluation frames and tied-gradient halves, and frames under a
// key the receiver never asks for. Each mutation makes a frame the receiving stage must refuse on
// arrival, whatever step it is at: the verdict comes from the construction, not from the code.
import { tinyGptJob } from '../gpt-jobs.ts';
import { resolveVocabulary } from '../../../trainer/src/model/vocabulary.ts';
import { StageFrames } from '../../../trainer/src/train/stage-frames.ts';
import { encodeFrame, type Frame } from '../../../trainer/src/transport/frame.ts';
import { FrameKind } from '../../../trainer/src/transport/kinds.ts';
import type { Link } from '../../../trainer/src/transport/link-api.ts';
import { binaryMessage, type FuzzMessage, type Limits } from './frame-cases.ts';
import type { Rng } from './rng.ts';

export interface ProtocolMutation {
  label: string;
  /** The refused frame made from a valid one of its kind; `totalSteps` is the run's. */
  mutate(frame: Frame, totalSteps: number): Frame;
}

const elements = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const float32 = (frame: Frame, shape: number[]): Frame => ({ ...frame, dtype: 'float32', shape, data: new Float32Array(elements(shape)) });

/** On an evaluation frame of the short last micro-batch (1 row) at an evaluated step. */
export const EVALUATION_MUTATIONS: ProtocolMutation[] = [
  { label: 'evaluation:full-rows', mutate: (f) => float32(f, [f.shape[0]! + 1, ...f.shape.slice(1)]) },
  { label: 'evaluation:float64', mutate: (f) => ({ ...f, dtype: 'float64', data: Float64Array.from(f.data) }) },
  { label: 'evaluation:micro-batch-past-end', mutate: (f) => ({ ...f, microBatch: f.microBatch + 1 }) },
  { label: 'evaluation:step-not-evaluated', mutate: (f) => ({ ...f, step: 0 }) },
];

/** On a tied-gradient half travelling from the original (upstream) toward the copy. */
export const TIED_MUTATIONS: ProtocolMutation[] = [
  { label: 'tied:transposed', mutate: (f) => float32(f, [...f.shape].reverse()) },
  { label: 'tied:int32', mutate: (f) => ({ ...f, dtype: 'int32', data: new Int32Array(f.data.length) }) },
  { label: 'tied:wrong-direction', mutate: (f) => ({ ...f, microBatch: 1 }) },
  { label: 'tied:two-steps-ahead', mutate: (f) => ({ ...f, step: f.step + 2 }) },
];

/** On an activation from upstream: keys the receiver never asks for. */
export const WRONG_KEY_MUTATIONS: ProtocolMutation[] = [
  { label: 'key:micro-batch-never-due', mutate: (f) => ({ ...f, microBatch: f.microBatch + 2 + (f.step % 7) }) },
  { label: 'key:gradient-from-upstream', mutate: (f) => ({ ...f, kind: FrameKind.Gradient }) },
  { label: 'key:two-steps-ahead', mutate: (f) => ({ ...f, step: f.step + 2 }) },
  { label: 'key:past-the-run', mutate: (f, totalSteps) => ({ ...f, step: totalSteps + (f.step % 1000) }) },
  { label: 'key:heartbeat-under-a-step', mutate: (f) => ({ ...f, kind: FrameKind.Heartbeat, step: f.step + 1, dtype: 'uint8', shape: [0], data: new Uint8Array(0) }) },
];

export const PROTOCOL_MUTATIONS = [...EVALUATION_MUTATIONS, ...TIED_MUTATIONS, ...WRONG_KEY_MUTATIONS];

/** What a stranger sends after its refused upgrade: a protocol frame, valid or garbled, as the real neighbour would. */
export function strangerFrame(rng: Rng): Buffer {
  const kind = rng.pick([FrameKind.Evaluation, FrameKind.TiedGradient, FrameKind.Activation]);
  const frame: Frame = { kind, step: rng.int(4), microBatch: rng.int(3), dtype: 'float32', shape: [2, 4], data: new Float32Array(8) };
  return Buffer.from(encodeFrame(rng.chance(0.5) ? frame : rng.pick(PROTOCOL_MUTATIONS).mutate(frame, 4)));
}

// The receiving stage of the link fuzzer's protocol connections: stage 1 of a tied GPT on [3, 4]
// (activations [2, 8, 16]; the tied weight [5, 16]), 4 steps of 2 micro-batches of 2 rows, steps 1
// and 3 evaluated on 5 samples (2 + 2 + 1 rows), gradients clipped.
const TOTAL_STEPS = 4;
const job = tinyGptJob('unused', { tied: true });
const protocolSpec = { ...job, training: { ...job.training, evalEverySteps: 2, evalSamples: 5 }, model: { ...job.model, layers: resolveVocabulary(job.model.layers, 5) } };

/** Screens `link` as that stage's upstream end, at step `current`. */
export function screenAsStage(link: Link, current: number): void {
  const frames = new StageFrames({ spec: protocolSpec, partition: [3, 4], stage: 1, plan: { microBatchSize: 2, totalSteps: TOTAL_STEPS }, evaluation: { samples: 5, microBatches: 3 }, upstream: link });
  frames.screenLinks().enterStep(current);
}

/** Every frame the stage admits from upstream at step `current` (steps current and current + 1), random data. */
function dueFrames(rng: Rng, current: number): Frame[] {
  const frames: Frame[] = [];
  const random = (frame: Omit<Frame, 'data'>, array: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array): Frame => {
    const data = new array(elements(frame.shape));
    new Uint8Array(data.buffer).set(rng.bytes(data.byteLength)); // any bits, NaNs included
    return { ...frame, data };
  };
  for (const step of [current, current + 1].filter((s) => s < TOTAL_STEPS)) {
    for (const microBatch of [0, 1]) frames.push(random({ kind: FrameKind.Activation, step, microBatch, dtype: 'float32', shape: [2, 8, 16] }));
    if (step % 2 === 1) for (const microBatch of [0, 1, 2]) frames.push(random({ kind: FrameKind.Evaluation, step, microBatch, dtype: 'float32', shape: [microBatch === 2 ? 1 : 2, 8, 16] }));
    frames.push(random({ kind: FrameKind.TiedGradient, step, microBatch: 0, dtype: 'float32', shape: [5, 16] }));
    frames.push(random({ kind: FrameKind.GradNorm, step, microBatch: 1, dtype: 'float64', shape: [1] }, Float64Array));
  }
  frames.push({ kind: FrameKind.Heartbeat, step: 0, microBatch: rng.int(1000), dtype: 'uint8', shape: [0], data: new Uint8Array(0) });
  return frames;
}

/** A protocol connection: a few due frames (delivered), then usually one the screen refuses (1008). */
export function protocolConnectionCase(rng: Rng, limits: Limits): { current: number; messages: FuzzMessage[] } {
  const current = rng.int(TOTAL_STEPS);
  const due = dueFrames(rng, current);
  const messages: FuzzMessage[] = [];
  // Distinct keys, so each delivered frame is checked exactly.
  for (let i = rng.int(5); i > 0 && due.length > 0; i--) {
    const [frame] = due.splice(rng.int(due.length), 1);
    messages.push(binaryMessage(rng, 'protocol:due', Buffer.from(encodeFrame(frame!)), limits));
  }
  if (rng.chance(0.8)) {
    const mutation = rng.pick(PROTOCOL_MUTATIONS);
    const kind = mutation.label.startsWith('evaluation') ? FrameKind.Evaluation : mutation.label.startsWith('tied') ? FrameKind.TiedGradient : FrameKind.Activation;
    const base = dueFrames(rng, current).find((f) => f.kind === kind && f.step >= current && (kind !== FrameKind.Evaluation || f.microBatch === 2))!;
    const message = binaryMessage(rng, `protocol:${mutation.label}`, Buffer.from(encodeFrame(mutation.mutate(base, TOTAL_STEPS))), limits);
    messages.push({ ...message, outcome: { close: 1008 } });
  }
  return { current, messages };
}
