// Before training, every stage confirms that its neighbours resume from the same step. Each stage
// picks the newest committed checkpoint that verifies on its own; this catches any disagreement
// (e.g. a checkpoint committed while a stage was already loading) before a single wrong step.
import { FrameKind, type Link } from '../transport/index.ts';
import { expectFrame } from '../train/expected-frames.ts';

export class ResumeMismatchError extends Error {}

/** Receives the upstream stage's resume step, compares it with ours and passes ours downstream. */
export async function agreeOnResumeStep(step: number, upstream: Link | undefined, downstream: Link | undefined, timeoutMs: number): Promise<void> {
  if (upstream) {
    const frame = expectFrame(await upstream.receive(FrameKind.Control, 0, 0, timeoutMs), { dtype: 'float64', shape: [1] }, 'upstream');
    const theirs = (frame.data as Float64Array)[0];
    if (theirs !== step) {
      throw new ResumeMismatchError(`the previous stage resumes from step ${theirs} but this stage from step ${step}; restarting the pipeline`);
    }
  }
  await downstream?.send({ kind: FrameKind.Control, step: 0, microBatch: 0, dtype: 'float64', shape: [1], data: Float64Array.of(step) });
}
