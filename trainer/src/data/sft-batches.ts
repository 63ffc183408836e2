// What a stage takes from an sft dataset per step and micro-batch: input ids, and targets packed
// with their mask as [rows, 2, window] int32 (row 0: next-token ids, row 1: 1 for a completion-token
// target, 0 for a prompt or padding one; train/loss.ts unpacks them). Samples are shuffled per epoch
// by data/plan.ts (seeded), so a step's samples, and its position in checkpoints, are a function of
// the step. The loss of a step is the sum of its completion-token losses over every micro-batch,
// divided by the completion tokens of the whole batch: each micro-batch's masked sum is scaled by
// the same 1 / (batch's completion tokens), computed here from the plan, identically on every stage.
import * as tf from '@tensorflow/tfjs-core';
import type { PipelineJobSpec } from '../api/schema.ts';
import { makeDataPlan } from './plan.ts';
import type { SftData, SftSamples } from './sft-data.ts';
import type { Batches } from './step-batches.ts';

export function sftBatches(spec: PipelineJobSpec, data: SftData): Batches {
  const { microBatchIndices, ...plan } = makeDataPlan(spec, data.train.count);
  const { train, validation } = data;
  const evalCount = Math.min(spec.training.evalSamples, validation.count);
  const evalIndices = (k: number) => range(k * plan.microBatchSize, Math.min((k + 1) * plan.microBatchSize, evalCount));
  return {
    plan,
    tokensPerSample: train.window,
    input: (step, mb) => sftInputs(train, microBatchIndices(step, mb)),
    targets: (step, mb) => sftTargets(train, microBatchIndices(step, mb)),
    completionScale: (step) => 1 / batchCompletionTokens(train, plan.microBatches, (mb) => microBatchIndices(step, mb)),
    evaluation: evalCount === 0 ? undefined : {
      samples: evalCount,
      microBatches: Math.ceil(evalCount / plan.microBatchSize),
      input: (k) => sftInputs(validation, evalIndices(k)),
      targets: (k) => sftTargets(validation, evalIndices(k)),
      completionTokens: sumCompletionTokens(validation, range(0, evalCount)),
    },
  };
}

/** Completion-token targets of one step: every micro-batch's, summed (an integer, exact). */
export function batchCompletionTokens(samples: SftSamples, microBatches: number, indicesOf: (microBatch: number) => ArrayLike<number>): number {
  let total = 0;
  for (let mb = 0; mb < microBatches; mb++) total += sumCompletionTokens(samples, indicesOf(mb));
  return total;
}

function sumCompletionTokens(samples: SftSamples, indices: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < indices.length; i++) total += samples.completionTokens[indices[i]!]!;
  return total;
}

/** [rows, window] int32 input ids. */
export function sftInputs(samples: SftSamples, indices: ArrayLike<number>): tf.Tensor {
  const { window } = samples;
  const ids = new Int32Array(indices.length * window);
  for (let i = 0; i < indices.length; i++) ids.set(samples.inputs.subarray(indices[i]! * window, (indices[i]! + 1) * window), i * window);
  return tf.tensor2d(ids, [indices.length, window], 'int32');
}

/** [rows, 2, window] int32: next-token ids, then the completion mask. */
export function sftTargets(samples: SftSamples, indices: ArrayLike<number>): tf.Tensor {
  const { window } = samples;
  const packed = new Int32Array(indices.length * 2 * window);
  for (let i = 0; i < indices.length; i++) {
    const from = indices[i]! * window;
    packed.set(samples.targets.subarray(from, from + window), 2 * i * window);
    packed.set(samples.mask.subarray(from, from + window), (2 * i + 1) * window);
  }
  return tf.tensor3d(packed, [indices.length, 2, window], 'int32');
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
