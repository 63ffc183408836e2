// Before training, every stage confirms that its neighbours resume from the same step and start
// from the same weight source. Each stage picks the newest committed checkpoint that verifies on
// its own, and an unpinned spec.model.from.checkpoint's newest step on its own too; this catches
// any disagreement (e.g. a checkpoint committed, by this job or the source job, while a stage was
// already loading) before a single wrong step. The stages restart and pick again.
import { FrameKind, type Link } from '../transport/index.ts';
import { RESUME_FRAME_ELEMENTS, type FrameReceiver } from '../train/stage-frames.ts';

export class ResumeMismatchError extends Error {}

/** What every stage must agree on: the step it resumes from, and the SHA-256 (hex) of spec.model.from's source. */
export interface ResumePoint {
  step: number;
  sourceChecksum?: string;
}

/** Receives the upstream stage's resume point (checked, through `frames`), compares it with ours and passes ours downstream. */
export async function agreeOnResumeStep(ours: ResumePoint, links: { upstream?: Link; downstream?: Link; frames: FrameReceiver }, timeoutMs: number): Promise<void> {
  if (links.upstream) {
    const frame = await links.frames.receive('upstream', FrameKind.Control, 0, 0, timeoutMs);
    const theirs = decodeResumePoint(frame.data as Float64Array);
    if (theirs.step !== ours.step) {
      throw new ResumeMismatchError(`the previous stage resumes from step ${theirs.step} but this stage from step ${ours.step}; restarting the pipeline`);
    }
    if (theirs.sourceChecksum !== ours.sourceChecksum) {
      throw new ResumeMismatchError(
        `the previous stage starts from spec.model.from with sha256 ${theirs.sourceChecksum ?? 'none'} but this stage with ${ours.sourceChecksum ?? 'none'} ` +
          '(the source changed while the stages opened it, e.g. its job committed a newer step); restarting the pipeline',
      );
    }
  }
  await links.downstream?.send({ kind: FrameKind.Control, step: 0, microBatch: 0, dtype: 'float64', shape: [RESUME_FRAME_ELEMENTS], data: encodeResumePoint(ours) });
}

/** [step, then the checksum as 8 unsigned 32-bit words (exact in float64), all 0 without a source]. */
export function encodeResumePoint(point: ResumePoint): Float64Array {
  const data = new Float64Array(RESUME_FRAME_ELEMENTS);
  data[0] = point.step;
  if (point.sourceChecksum !== undefined) {
    for (let word = 0; word < RESUME_FRAME_ELEMENTS - 1; word++) data[word + 1] = Number.parseInt(point.sourceChecksum.slice(word * 8, word * 8 + 8), 16);
  }
  return data;
}

export function decodeResumePoint(data: Float64Array): ResumePoint {
  const words = [...data.subarray(1)];
  const step = data[0] ?? Number.NaN;
  // A SHA-256 of all zero bits does not occur: all zeros means no source.
  if (words.every((w) => w === 0)) return { step };
  return { step, sourceChecksum: words.map((w) => w.toString(16).padStart(8, '0')).join('') };
}
