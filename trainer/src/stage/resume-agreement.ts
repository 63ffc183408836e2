// Before training, every stage confirms that its neighbours resume from the same step. Each stage
// picks the newest committed checkpoint that verifies on its own; this catches any disagreement
// (e.g. a checkpoint committed while a stage was already loading) before a single wrong step.
import { FrameKind, type Link } from '../transport/index.ts';
import type { FrameReceiver } from '../train/stage-frames.ts';

export class ResumeMismatchError extends Error {}

/** Receives the upstream stage's resume step (checked, through `frames`), compares it with ours and passes ours downstream. */
export async function agreeOnResumeStep(step: number, links: { upstream?: Link; downstream?: Link; frames: FrameReceiver }, timeoutMs: number): Promise<void> {
  if (links.upstream) {
    const frame = await links.frames.receive('upstream', FrameKind.Control, 0, 0, timeoutMs);
    const theirs = (frame.data as Float64Array)[0];
    if (theirs !== step) {
      throw new ResumeMismatchError(`the previous stage resumes from step ${theirs} but this stage from step ${step}; restarting the pipeline`);
    }
  }
  await links.downstream?.send({ kind: FrameKind.Control, step: 0, microBatch: 0, dtype: 'float64', shape: [1], data: Float64Array.of(step) });
}
