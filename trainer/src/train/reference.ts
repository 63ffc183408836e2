// Single-process training over the same micro-batches as the pipeline: the yardstick of exactness.
// One "stage" holds every layer; each step accumulates micro-batch gradients in ascending order,
// sums the two halves of a tied weight's gradient (embedding's + head's, tied-weights.ts) and
// applies them once, exactly as every pipeline stage does for its own layers. It evaluates at the
// same steps as the pipeline does, over the same validation micro-batches.
import * as tf from '@tensorflow/tfjs-core';
import type { TrainingData } from '../data/load.ts';
import { makeBatches } from '../data/step-batches.ts';
import { modelLayerCount } from '../model/expand.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import type { WeightBytes } from './digest.ts';
import { evaluateStage, evaluationDue } from './evaluation.ts';
import { buildStage } from './job-model.ts';
import { learningRateAt } from './lr-schedule.ts';
import { optimizerStep, singleProcessNorm } from './optimizer-step.ts';
import { readLossSum } from './read-back.ts';
import { GradientAccumulator } from './stage-model.ts';
import { countsInNorm, tiedReduction } from './tied-weights.ts';

export interface ReferenceResult {
  weights: WeightBytes[];
  losses: number[];
  /** Validation loss by (0-based) step, for the steps that were evaluated. */
  valLosses: Map<number, number>;
  /** Wall seconds of each step (for benchmarks). */
  stepSeconds: number[];
}

/** `spec` must have the data's vocabulary filled in (loadTrainingData returns such a spec). */
export async function trainSingleProcess(spec: PipelineJobSpec, data: TrainingData, steps?: number): Promise<ReferenceResult> {
  const batches = makeBatches(spec, data);
  const { plan } = batches;
  const totalSteps = steps ?? plan.totalSteps;
  const { model, optimizer } = buildStage(spec, 0, modelLayerCount(spec.model.layers));
  const reduceTied = tiedReduction('local', model.trainable, {});
  const inNorm = countsInNorm(model.trainable);
  const hasTiedCopy = model.trainable.some((w) => w.tiedCopy);
  const losses: number[] = [];
  const valLosses = new Map<number, number>();
  const stepSeconds: number[] = [];
  for (let step = 0; step < totalSteps; step++) {
    const started = performance.now();
    const accumulator = new GradientAccumulator();
    const microBatchLosses: tf.Tensor[] = [];
    const completionScale = batches.completionScale?.(step);
    for (let microBatch = 0; microBatch < plan.microBatches; microBatch++) {
      const x = batches.input(step, microBatch);
      const y = batches.targets(step, microBatch);
      const result = model.lossAndBackward(x, y, { training: true, seed: spec.training.seed, step, microBatch }, completionScale);
      if (result.loss) microBatchLosses.push(result.loss);
      accumulator.add(result.grads);
      tf.dispose([x, y]);
    }
    const loss = (await readLossSum(microBatchLosses)) ?? 0;
    const grads = hasTiedCopy ? await reduceTied(accumulator.take(), step) : accumulator.take();
    await optimizerStep({
      optimizer,
      step,
      grads,
      learningRate: learningRateAt(step, spec.training.optimizer.learningRate, spec.training.learningRateSchedule, plan.totalSteps),
      clipNorm: spec.training.gradientClipNorm,
      exchangeNorm: singleProcessNorm,
      countsInNorm: inNorm,
    });
    losses.push(loss);
    if (batches.evaluation && evaluationDue(spec, step, plan.totalSteps)) {
      valLosses.set(step, (await evaluateStage(model, batches.evaluation, spec.model.loss, step))!);
    }
    stepSeconds.push((performance.now() - started) / 1000);
  }
  const weights = model.weightBytes();
  optimizer.dispose();
  model.weights.forEach((w) => w.variable.dispose());
  return { weights, losses, valLosses, stepSeconds };
}
