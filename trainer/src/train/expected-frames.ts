// What a stage accepts from its neighbours: every frame it receives must have the dtype and shape
// that frame's place in the protocol calls for. A frame that decodes but does not fit (a batch of
// 1 row where 10 were due, float64 activations) is the neighbour's fault, like an undecodable one:
// before this check, a wrong-shaped activation trained a step on it and the neighbour then failed
// on a tf shape error with exit code 1 (found by test/fuzz/stage-fuzz.test.ts).
import { frameKindName, type Frame } from '../transport/index.ts';

/** A neighbour sent a frame this stage cannot use; the stage exits with PeerLost. */
export class PeerFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PeerFrameError';
  }
}

export interface FrameExpectation {
  dtype: Frame['dtype'];
  /** Exact shape; `undefined` entries accept any size in that dimension. */
  shape: ReadonlyArray<number | undefined>;
}

/** Returns the frame when it fits, or throws a PeerFrameError naming what was due. */
export function expectFrame(frame: Frame, expected: FrameExpectation, from: 'upstream' | 'downstream'): Frame {
  const shapeFits = frame.shape.length === expected.shape.length && expected.shape.every((dim, i) => dim === undefined || dim === frame.shape[i]);
  if (frame.dtype !== expected.dtype || !shapeFits) {
    const due = `${expected.dtype} [${expected.shape.map((d) => d ?? '*').join(', ')}]`;
    throw new PeerFrameError(
      `the ${from} stage sent a ${frameKindName(frame.kind)} frame for step ${frame.step}, micro-batch ${frame.microBatch} as ${frame.dtype} [${frame.shape.join(', ')}], expected ${due}`,
    );
  }
  return frame;
}
