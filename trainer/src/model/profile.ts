// Per-layer cost for the `profile` partition policy: the measured forward + backward time of each
// layer on the chosen backend, at the job's micro-batch size (torchgpipe's balance_by_time).
import * as tf from '@tensorflow/tfjs-core';
import type { PipelineJobSpec } from '../api/schema.ts';
import { jobLayers } from './expand.ts';
import { buildLayers } from './layers.ts';
import { inferLayerShapes } from './shapes.ts';

const WARMUP_RUNS = 2;
const TIMED_RUNS = 5;

/** Median seconds per layer of one forward + backward pass over a random micro-batch. */
export function profileLayerCosts(spec: PipelineJobSpec): number[] {
  const { inputShape } = spec.model;
  const specs = jobLayers(spec);
  const { outputShapes } = inferLayerShapes(inputShape, specs);
  const batch = spec.data.batchSize / spec.pipeline.microBatches;
  const layers = buildLayers(inputShape, specs, spec.training.seed);
  try {
    return layers.map((layer, index) => {
      const inShape = index === 0 ? inputShape : outputShapes[index - 1]!;
      const layerSpec = specs[index]!;
      // An embedding takes token ids, which have no gradient.
      const tokenIds = layerSpec.type === 'embedding';
      const x = tokenIds
        ? tf.randomUniform([batch, ...inShape], 0, layerSpec.vocabSize!, 'int32', index)
        : tf.randomUniform([batch, ...inShape], 0, 1, 'float32', index);
      const ctx = { training: true, seed: spec.training.seed, step: 0, microBatch: 0 };
      const variables = layer.weights.map((w) => w.variable);
      const run = () => {
        const { value, grads } = tf.engine().gradients(() => tf.sum(layer.apply(x, ctx)) as tf.Scalar, tokenIds ? variables : [x, ...variables], undefined, true);
        tf.dispose([value, ...grads.filter((g): g is tf.Tensor => g !== null)]);
      };
      const times: number[] = [];
      for (let i = 0; i < WARMUP_RUNS + TIMED_RUNS; i++) {
        const t0 = performance.now();
        run();
        if (i >= WARMUP_RUNS) times.push((performance.now() - t0) / 1000);
      }
      x.dispose();
      return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
    });
  } finally {
    layers.forEach((layer) => layer.weights.forEach((w) => w.variable.dispose()));
  }
}
