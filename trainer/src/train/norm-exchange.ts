// The global gradient norm across stages, for clipping. Squared sums travel upstream: the last
// stage sends its list to its predecessor, each stage puts its own in front and passes it on, so
// stage 0 holds every stage's values in model order and sums them exactly as a single process
// would. The resulting norm then travels downstream to every stage.
//
// The same exchange is the per-step handshake of frozen leading stages. Stages before
// `backwardFree` (schedule/frozen.ts) run no RECV_B, so nothing else makes them wait for the stages
// after them: stage 0 would send the activations of step s + 2, s + 3, … while a later stage is
// still in step s, and the screen (stage-frames.ts) allows one step ahead only. So when leading
// stages are frozen, the exchange runs at every OPT even without clipping, with no squared sums
// and its norm unused: stage 0 finishes step s only after every stage reached the OPT of step s,
// which is what the screen's window relies on. The schedules stay as they are (plain data).
import type { PipelineJobSpec } from '../api/schema.ts';
import { backwardFreeStages } from '../model/trainable.ts';
import { rangesFromSizes } from '../model/partition.ts';
import { FrameKind, type Link } from '../transport/index.ts';
import { globalNorm, type NormExchange } from './optimizer-step.ts';
import type { FrameReceiver } from './stage-frames.ts';

/** microBatch field of GradNorm frames: which way the frame travels. */
export const SUMS_UPSTREAM = 0;
export const NORM_DOWNSTREAM = 1;

/** True when leading stages are frozen (no backward): the norm exchange then runs as their handshake, see the file comment. */
export function normHandshake(spec: Pick<PipelineJobSpec, 'model' | 'training'>, partition: readonly number[]): boolean {
  return backwardFreeStages(spec, rangesFromSizes([...partition])) > 0;
}

/** True when the stages exchange the norm at every OPT: to clip, or as the handshake of frozen leading stages. */
export function normExchanged(spec: Pick<PipelineJobSpec, 'model' | 'training'>, partition: readonly number[]): boolean {
  return spec.training.gradientClipNorm !== undefined || normHandshake(spec, partition);
}

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
