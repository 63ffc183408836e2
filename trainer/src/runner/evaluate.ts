// Validation metrics of trained weights: builds the whole model in this process, loads the weights
// the stages reported and runs the validation set forward (no dropout).
import * as tf from '@tensorflow/tfjs-core';
import { inputTensor, targetTensor } from '../data/batches.ts';
import type { Dataset } from '../data/dataset.ts';
import { jobLayers } from '../model/expand.ts';
import { buildLayers } from '../model/layers.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import type { WeightBytes } from '../train/digest.ts';
import { outputClasses } from '../train/job-model.ts';
import { computeLoss, countCorrect } from '../train/loss.ts';

const EVAL_BATCH = 500;

export interface Evaluation {
  /** Fraction of validation samples classified correctly; undefined for regression or no validation data. */
  accuracy?: number;
  loss?: number;
}

export function evaluate(spec: PipelineJobSpec, weights: WeightBytes[], validation: Dataset): Evaluation {
  if (validation.count === 0) return {};
  const specs = jobLayers(spec);
  const layers = buildLayers(spec.model.inputShape, specs, spec.training.seed, 0, specs.length, spec.training.lora ? { lora: spec.training.lora } : {});
  const byName = new Map(weights.map((w) => [w.name, w.data]));
  for (const { name, variable } of layers.flatMap((l) => l.weights)) {
    const data = byName.get(name);
    if (!data) throw new Error(`no trained value for weight ${name}`);
    variable.assign(tf.tensor(data, variable.shape));
  }
  const classes = outputClasses(spec);
  let correct = 0;
  let lossSum = 0;
  for (let start = 0; start < validation.count; start += EVAL_BATCH) {
    const indices = Array.from({ length: Math.min(EVAL_BATCH, validation.count - start) }, (_, i) => start + i);
    tf.tidy(() => {
      const x = inputTensor(validation, indices);
      const y = targetTensor(validation, indices, spec.model.loss, classes);
      const ctx = { training: false, seed: 0, step: 0, microBatch: 0 };
      const predictions = layers.reduce((h, layer) => layer.apply(h, ctx), x);
      correct += countCorrect(spec.model.loss, predictions, y);
      lossSum += computeLoss(spec.model.loss, predictions, y, indices.length).dataSync()[0]!;
    });
  }
  layers.forEach((layer) => layer.weights.forEach((w) => w.variable.dispose()));
  const loss = lossSum / validation.count;
  return spec.model.loss === 'meanSquaredError' ? { loss } : { accuracy: correct / validation.count, loss };
}
