// Seeded synthetic data: uniform features in [-1, 1); labels from a fixed random linear teacher,
// so the task is learnable. Classification: label = arg-max of the teacher's outputs.
// Regression (classes 0): targets = tanh(teacher outputs), of the model's output size.
import { seededRandom } from '../model/seeds.ts';
import { sampleSize, type Dataset } from './dataset.ts';

export interface SyntheticSpec {
  seed: number;
  samples: number;
  featureShape: number[];
  classes: number;
}

export function makeSynthetic(spec: SyntheticSpec, regressionSize: number): Dataset {
  const random = seededRandom(spec.seed);
  const featureSize = sampleSize(spec.featureShape);
  const outputs = spec.classes > 0 ? spec.classes : regressionSize;
  const teacher = Float64Array.from({ length: featureSize * outputs }, () => random() * 2 - 1);
  const features = Float32Array.from({ length: spec.samples * featureSize }, () => random() * 2 - 1);
  const labelShape = spec.classes > 0 ? [] : [outputs];
  const labels = new Float32Array(spec.samples * (spec.classes > 0 ? 1 : outputs));
  const scores = new Float64Array(outputs);
  for (let s = 0; s < spec.samples; s++) {
    scores.fill(0);
    for (let f = 0; f < featureSize; f++) {
      const x = features[s * featureSize + f]!;
      for (let o = 0; o < outputs; o++) scores[o]! += x * teacher[f * outputs + o]!;
    }
    if (spec.classes > 0) labels[s] = argMax(scores);
    else for (let o = 0; o < outputs; o++) labels[s * outputs + o] = Math.tanh(scores[o]! / Math.sqrt(featureSize));
  }
  return { features, featureShape: [...spec.featureShape], labels, labelShape, count: spec.samples, classes: spec.classes };
}

function argMax(values: Float64Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
