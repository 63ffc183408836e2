// Which token windows each optimizer step and micro-batch trains on: a pure function of the job
// spec and the split's length, so every stage computes the same plan (no data crosses stages) and
// a resumed run continues exactly. A window is inputShape[0] tokens; its targets are the same
// positions shifted by one token.
//   random (default): each step draws batchSize start positions in [0, tokens − window − 1],
//     seeded by (shuffle seed, step), as nanoGPT's get_batch;
//   sequential: epochs over the non-overlapping windows (start k·window), shuffled per epoch.
import { mixSeed, seededRandom } from '../model/seeds.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import { DataError } from './dataset.ts';
import { makeDataPlan, type DataPlan } from './plan.ts';

export interface TokenPlan extends Omit<DataPlan, 'microBatchIndices'> {
  /** Tokens per window (spec.model.inputShape[0]). */
  window: number;
  /** Start positions (into the train split) of one micro-batch's windows. */
  windowStarts(step: number, microBatch: number): Int32Array;
}

export function makeTokenPlan(spec: PipelineJobSpec, trainTokens: number): TokenPlan {
  const window = spec.model.inputShape[0]!;
  if (trainTokens < window + 1) {
    throw new DataError(`spec.model.inputShape: a window of ${window} tokens needs at least ${window + 1} training tokens (the targets are shifted by one), but the train split has ${trainTokens}`);
  }
  const dataset = spec.data.dataset;
  const sequential = dataset.type === 'tokens' && dataset.sampling === 'sequential';
  // Epochs are counted in non-overlapping windows for both samplings: one epoch sees about every token once.
  const windows = Math.floor((trainTokens - 1) / window);
  const plan = makeDataPlan(spec, windows);
  const { microBatchSize, batchSize } = plan;
  const { microBatchIndices, ...rest } = plan;
  if (sequential) {
    return { ...rest, window, windowStarts: (step, mb) => Int32Array.from(microBatchIndices(step, mb), (k) => k * window) };
  }
  const starts = trainTokens - window; // valid starts: 0 .. trainTokens − window − 1
  let cachedStep = -1;
  let cached = new Int32Array(0);
  const stepStarts = (step: number) => {
    if (step !== cachedStep) {
      const random = seededRandom(mixSeed(spec.data.shuffle.seed, 0x70ce5, step));
      cached = Int32Array.from({ length: batchSize }, () => Math.floor(random() * starts));
      cachedStep = step;
    }
    return cached;
  };
  return { ...rest, window, windowStarts: (step, mb) => stepStarts(step).subarray(mb * microBatchSize, (mb + 1) * microBatchSize) };
}

/** Fixed, seeded start positions of the validation windows: the same set at every evaluation. */
export function validationWindowStarts(spec: PipelineJobSpec, valTokens: number): Int32Array {
  const window = spec.model.inputShape[0]!;
  if (valTokens === 0) return new Int32Array(0);
  if (valTokens < window + 1) {
    throw new DataError(`the val split has ${valTokens} tokens, fewer than one window of ${window} plus its shifted target; prepare with a larger validation fraction, or shorten the window`);
  }
  const random = seededRandom(mixSeed(spec.data.shuffle.seed, 0xe7a1));
  return Int32Array.from({ length: spec.training.evalSamples }, () => Math.floor(random() * (valTokens - window)));
}
