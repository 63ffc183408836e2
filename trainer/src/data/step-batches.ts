// What one stage (or the single-process reference) takes from the data: input and target tensors
// per optimizer step and micro-batch, and the fixed validation micro-batches of an evaluation.
// Sample datasets select rows (plan.ts, batches.ts); token datasets cut windows (token-plan.ts);
// sft datasets take whole demonstrations with their completion masks (sft-batches.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { PipelineJobSpec } from '../api/schema.ts';
import { outputClasses } from '../train/job-model.ts';
import { inputTensor, targetTensor } from './batches.ts';
import type { Dataset } from './dataset.ts';
import { isTokenData, type TrainingData } from './load.ts';
import { makeDataPlan, type DataPlan } from './plan.ts';
import { sftBatches } from './sft-batches.ts';
import { isSftData } from './sft-data.ts';
import type { TokenArray } from './token-shards.ts';
import { makeTokenPlan, validationWindowStarts } from './token-plan.ts';

/** The step arithmetic every stage shares: how many steps, and the data position saved in checkpoints. */
export type StepPlan = Omit<DataPlan, 'microBatchIndices'>;

export interface Evaluation {
  /** Validation samples (windows) evaluated. */
  samples: number;
  microBatches: number;
  input(microBatch: number): tf.Tensor;
  targets(microBatch: number): tf.Tensor;
  /** sft: the completion-token targets evaluated; the validation loss is their mean (not the samples'). */
  completionTokens?: number;
}

export interface Batches {
  plan: StepPlan;
  /** Tokens per sample for language models (throughput in tokens/s); undefined otherwise. */
  tokensPerSample?: number;
  input(step: number, microBatch: number): tf.Tensor;
  targets(step: number, microBatch: number): tf.Tensor;
  /**
   * sft: 1 / (completion-token targets in the step's whole batch). A micro-batch's loss is then its
   * masked sum times this (train/loss.ts), so the step's loss is the mean over the batch's completion
   * tokens however the batch is cut. Undefined for other datasets (mean × 1/micro-batches).
   */
  completionScale?(step: number): number;
  /** The validation micro-batches; undefined when the job evaluates nothing during training. */
  evaluation?: Evaluation;
}

export function makeBatches(spec: PipelineJobSpec, data: TrainingData): Batches {
  if (isSftData(data)) return sftBatches(spec, data);
  return isTokenData(data) ? tokenBatches(spec, data.train, data.val) : sampleBatches(spec, data.train, data.validation);
}

function sampleBatches(spec: PipelineJobSpec, train: Dataset, validation: Dataset): Batches {
  const plan = makeDataPlan(spec, train.count);
  const classes = outputClasses(spec);
  const { loss } = spec.model;
  const samples = spec.training.evalEverySteps === undefined ? 0 : Math.min(spec.training.evalSamples, validation.count);
  const evalIndices = (k: number) => range(k * plan.microBatchSize, Math.min((k + 1) * plan.microBatchSize, samples));
  const { microBatchIndices, ...stepPlan } = plan;
  return {
    plan: stepPlan,
    input: (step, mb) => inputTensor(train, microBatchIndices(step, mb)),
    targets: (step, mb) => targetTensor(train, microBatchIndices(step, mb), loss, classes),
    evaluation: samples === 0 ? undefined : {
      samples,
      microBatches: Math.ceil(samples / plan.microBatchSize),
      input: (k) => inputTensor(validation, evalIndices(k)),
      targets: (k) => targetTensor(validation, evalIndices(k), loss, classes),
    },
  };
}

function tokenBatches(spec: PipelineJobSpec, train: TokenArray, val: TokenArray): Batches {
  const { windowStarts, window, ...plan } = makeTokenPlan(spec, train.length);
  const evalStarts = validationWindowStarts(spec, val.length);
  const evalAt = (k: number) => evalStarts.subarray(k * plan.microBatchSize, (k + 1) * plan.microBatchSize);
  return {
    plan,
    tokensPerSample: window,
    input: (step, mb) => windows(train, windowStarts(step, mb), window, 0),
    targets: (step, mb) => windows(train, windowStarts(step, mb), window, 1),
    evaluation: evalStarts.length === 0 ? undefined : {
      samples: evalStarts.length,
      microBatches: Math.ceil(evalStarts.length / plan.microBatchSize),
      input: (k) => windows(val, evalAt(k), window, 0),
      targets: (k) => windows(val, evalAt(k), window, 1),
    },
  };
}

/** [starts.length, window] int32 token ids from `tokens`, each window shifted by `offset` (1: the targets). */
export function windows(tokens: TokenArray, starts: ArrayLike<number>, window: number, offset: number): tf.Tensor {
  const ids = new Int32Array(starts.length * window);
  for (let i = 0; i < starts.length; i++) {
    const from = starts[i]! + offset;
    ids.set(tokens.subarray(from, from + window), i * window);
  }
  return tf.tensor2d(ids, [starts.length, window], 'int32');
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
