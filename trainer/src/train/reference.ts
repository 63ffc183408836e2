// Single-process training over the same micro-batches as the pipeline: the yardstick of exactness.
// One "stage" holds every layer; each step accumulates micro-batch gradients in ascending order and
// applies them once, exactly as every pipeline stage does for its own layers.
import * as tf from '@tensorflow/tfjs-core';
import { inputTensor, targetTensor } from '../data/batches.ts';
import type { SplitDataset } from '../data/dataset.ts';
import { makeDataPlan } from '../data/plan.ts';
import { modelLayerCount } from '../model/expand.ts';
import type { PipelineJobSpec } from '../spec/schema.ts';
import type { WeightBytes } from './digest.ts';
import { buildStage, outputClasses } from './job-model.ts';
import { learningRateAt } from './lr-schedule.ts';
import { optimizerStep, singleProcessNorm } from './optimizer-step.ts';
import { readLossSum } from './read-back.ts';
import { GradientAccumulator } from './stage-model.ts';

export interface ReferenceResult {
  weights: WeightBytes[];
  losses: number[];
  /** Wall seconds of each step (for benchmarks). */
  stepSeconds: number[];
}

export async function trainSingleProcess(spec: PipelineJobSpec, data: SplitDataset, steps?: number): Promise<ReferenceResult> {
  const plan = makeDataPlan(spec, data.train.count);
  const totalSteps = steps ?? plan.totalSteps;
  const { model, optimizer } = buildStage(spec, 0, modelLayerCount(spec.model.layers));
  const classes = outputClasses(spec);
  const losses: number[] = [];
  const stepSeconds: number[] = [];
  for (let step = 0; step < totalSteps; step++) {
    const started = performance.now();
    const accumulator = new GradientAccumulator();
    const microBatchLosses: tf.Tensor[] = [];
    for (let microBatch = 0; microBatch < plan.microBatches; microBatch++) {
      const indices = plan.microBatchIndices(step, microBatch);
      const x = inputTensor(data.train, indices);
      const y = targetTensor(data.train, indices, spec.model.loss, classes);
      const result = model.lossAndBackward(x, y, { training: true, seed: spec.training.seed, step, microBatch });
      if (result.loss) microBatchLosses.push(result.loss);
      accumulator.add(result.grads);
      tf.dispose([x, y]);
    }
    const loss = (await readLossSum(microBatchLosses)) ?? 0;
    await optimizerStep({
      optimizer,
      step,
      grads: accumulator.take(),
      learningRate: learningRateAt(step, spec.training.optimizer.learningRate, spec.training.learningRateSchedule, plan.totalSteps),
      clipNorm: spec.training.gradientClipNorm,
      exchangeNorm: singleProcessNorm,
    });
    losses.push(loss);
    stepSeconds.push((performance.now() - started) / 1000);
  }
  const weights = model.weightBytes();
  optimizer.dispose();
  model.weights.forEach((w) => w.variable.dispose());
  return { weights, losses, stepSeconds };
}
