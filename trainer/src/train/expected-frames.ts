// What a stage accepts from its neighbours: every frame it receives must carry the key it was
// due under and the dtype, shape and length that frame's place in the protocol calls for. A frame
// that decodes but does not fit (a batch of 1 row where 10 were due, float64 activations) is the
// neighbour's fault, like an undecodable one: before this check, a wrong-shaped activation trained
// a step on it and the neighbour then failed on a tf shape error with exit code 1 (found by
// test/fuzz/stage-fuzz.test.ts). One function, checkFrame, judges every kind; the stage exits with
// PeerLost (3) on its error.
import { frameKindName, type Frame } from '../transport/index.ts';

/** A neighbour sent a frame this stage cannot use, or none where one was due; the stage exits with PeerLost. */
export class PeerFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerFrameError';
  }
}

/** Which neighbour a frame comes from, for messages: 'the upstream stage (stage 0)'. */
export interface Peer {
  side: 'upstream' | 'downstream';
  stage: number;
}

export interface FrameExpectation {
  dtype: Frame['dtype'];
  /** Exact shape; `undefined` entries accept any size in that dimension, up to maxElements in all. */
  shape: ReadonlyArray<number | undefined>;
  /** Upper bound of the element count when a dimension is open (a list of squared sums). */
  maxElements?: number;
}

/** A frame's key: what the receiver asked the mailbox for. */
export interface FrameKey {
  kind: number;
  step: number;
  microBatch: number;
}

export function describePeer(peer: Peer): string {
  return `the ${peer.side} stage (stage ${peer.stage})`;
}

export function describeKey(key: FrameKey): string {
  return `${frameKindName(key.kind)} frame for step ${key.step}, micro-batch ${key.microBatch}`;
}

/**
 * The one check of a received frame: its key is the one due, its dtype and shape are what that
 * key calls for, and its data holds exactly product(shape) elements (within maxElements). Returns
 * the frame, or throws a PeerFrameError naming the sender, what it sent and what was due.
 */
export function checkFrame(frame: Frame, due: FrameKey & FrameExpectation, from: Peer): Frame {
  const problem = frameProblem(frame, due);
  if (problem) throw new PeerFrameError(`${describePeer(from)} sent a ${describeKey(frame)} ${problem}`);
  return frame;
}

/** What is wrong with the frame, as the end of a sentence, or undefined when it fits. */
function frameProblem(frame: Frame, due: FrameKey & FrameExpectation): string | undefined {
  if (frame.kind !== due.kind || frame.step !== due.step || frame.microBatch !== due.microBatch) return `where a ${describeKey(due)} was due`;
  const elements = frame.shape.reduce((a, b) => a * b, 1);
  const shapeFits = frame.shape.length === due.shape.length && due.shape.every((dim, i) => dim === undefined || dim === frame.shape[i]);
  if (frame.dtype !== due.dtype || !shapeFits || elements > (due.maxElements ?? Infinity)) {
    const bound = due.maxElements === undefined ? '' : ` (at most ${due.maxElements} elements)`;
    return `as ${frame.dtype} [${frame.shape.join(', ')}], expected ${due.dtype} [${due.shape.map((d) => d ?? '*').join(', ')}]${bound}`;
  }
  // The decoder guarantees this; checked again because a tensor built on a shorter array reads garbage.
  if (frame.data.length !== elements) return `with ${frame.data.length} elements for shape [${frame.shape.join(', ')}]`;
  return undefined;
}
