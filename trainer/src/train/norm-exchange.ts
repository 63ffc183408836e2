// The global gradient norm across stages, for clipping. Squared sums travel upstream: the last
// stage sends its list to its predecessor, each stage puts its own in front and passes it on, so
// stage 0 holds every stage's values in model order and sums them exactly as a single process
// would. The resulting norm then travels downstream to every stage.
import { FrameKind, type Link } from '../transport/index.ts';
import { globalNorm, type NormExchange } from './optimizer-step.ts';
import type { FrameReceiver } from './stage-frames.ts';

/** microBatch field of GradNorm frames: which way the frame travels. */
export const SUMS_UPSTREAM = 0;
export const NORM_DOWNSTREAM = 1;

/** Sends over the links; receives through `frames` (checked: stage-frames.ts). */
export function linkNormExchange(upstream: Link | undefined, downstream: Link | undefined, frames: FrameReceiver): NormExchange {
  return async (local, current) => {
    let sums = local;
    if (downstream) {
      const fromBelow = await frames.receive('downstream', FrameKind.GradNorm, current, SUMS_UPSTREAM);
      sums = [...local, ...(fromBelow.data as Float64Array)];
    }
    let norm: number;
    if (upstream) {
      await upstream.send(float64Frame(current, SUMS_UPSTREAM, sums));
      const fromAbove = await frames.receive('upstream', FrameKind.GradNorm, current, NORM_DOWNSTREAM);
      norm = (fromAbove.data as Float64Array)[0]!;
    } else {
      norm = globalNorm(sums);
    }
    if (downstream) await downstream.send(float64Frame(current, NORM_DOWNSTREAM, [norm]));
    return norm;
  };
}

function float64Frame(step: number, microBatch: number, values: number[]) {
  return { kind: FrameKind.GradNorm, step, microBatch, dtype: 'float64' as const, shape: [values.length], data: Float64Array.from(values) };
}
