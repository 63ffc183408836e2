// Which samples each optimizer step and micro-batch uses. A pure function of the job spec:
// every stage process computes the same plan on its own, so no data is shipped between stages.
import { mixSeed, seededPermutation } from '../model/seeds.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import { selectSamples, type Dataset, type SplitDataset } from './dataset.ts';

export interface DataPlan {
  batchSize: number;
  microBatches: number;
  microBatchSize: number;
  stepsPerEpoch: number;
  totalSteps: number;
  /** Sample indices (into the training set) of one micro-batch of one step. */
  microBatchIndices(step: number, microBatch: number): Int32Array;
  /** Epoch and offset (steps into the epoch) of a step: the data position saved in checkpoints. */
  position(step: number): { epoch: number; offset: number };
}

/** Splits off the validation set with a seeded permutation; training keeps the file order. */
export function splitDataset(data: Dataset, validationSplit: number, seed: number): SplitDataset {
  const order = seededPermutation(data.count, mixSeed(seed, 0x5911d));
  const validationCount = Math.floor(data.count * validationSplit);
  const validation = Int32Array.from(order.subarray(0, validationCount)).sort();
  const train = Int32Array.from(order.subarray(validationCount)).sort();
  return { train: selectSamples(data, train), validation: selectSamples(data, validation) };
}

export function makeDataPlan(spec: PipelineJobSpec, trainCount: number): DataPlan {
  const { batchSize, shuffle } = spec.data;
  const microBatches = spec.pipeline.microBatches;
  const stepsPerEpoch = Math.floor(trainCount / batchSize);
  if (stepsPerEpoch < 1) {
    throw new RangeError(`spec.data.batchSize: ${batchSize} is larger than the ${trainCount} training samples`);
  }
  const totalSteps = spec.training.steps ?? (spec.training.epochs ?? 1) * stepsPerEpoch;
  const microBatchSize = batchSize / microBatches;
  let cachedEpoch = -1;
  let cachedOrder: Int32Array = new Int32Array(0);
  const epochOrder = (epoch: number): Int32Array => {
    if (epoch !== cachedEpoch) {
      cachedOrder = shuffle.enabled ? seededPermutation(trainCount, mixSeed(shuffle.seed, epoch)) : Int32Array.from({ length: trainCount }, (_, i) => i);
      cachedEpoch = epoch;
    }
    return cachedOrder;
  };
  const position = (step: number) => ({ epoch: Math.floor(step / stepsPerEpoch), offset: step % stepsPerEpoch });
  return {
    batchSize, microBatches, microBatchSize, stepsPerEpoch, totalSteps, position,
    microBatchIndices(step, microBatch) {
      const { epoch, offset } = position(step);
      const start = offset * batchSize + microBatch * microBatchSize;
      return epochOrder(epoch).subarray(start, start + microBatchSize);
    },
  };
}
