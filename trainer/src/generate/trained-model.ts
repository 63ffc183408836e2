// A whole language model in one process, from trained weights (a checkpoint's, or those the stages
// reported at the end of `pipetrain train`), for sampling: forward only, no dropout.
import * as tf from '@tensorflow/tfjs-core';
import type { PipelineJobSpec } from '../api/schema.ts';
import { jobLayers } from '../model/expand.ts';
import { buildLayers, type Layer } from '../model/layers.ts';

export interface TrainedModel {
  /** Longest context the model was trained on (spec.model.inputShape[0]): older tokens are dropped. */
  window: number;
  vocabSize: number;
  /** Logits at the last position for the context `ids` (at most `window` of them). */
  nextLogits(ids: readonly number[]): Float32Array;
  dispose(): void;
}

const FORWARD_ONLY = { training: false, seed: 0, step: 0, microBatch: 0 };

/** `model` has its vocabulary resolved; `weights` by name (a tied copy shares the embedding's name). */
export function trainedModel(model: PipelineJobSpec['model'], seed: number, weights: ReadonlyMap<string, Float32Array>): TrainedModel {
  const specs = jobLayers({ model });
  const first = specs[0];
  const last = specs[specs.length - 1];
  if (first?.type !== 'embedding' || last?.type !== 'lmHead') {
    throw new Error('the checkpoint is not of a language model (it needs an embedding first and an lmHead last)');
  }
  const layers: Layer[] = buildLayers(model.inputShape, specs, seed);
  const dispose = () => layers.forEach((layer) => layer.weights.forEach((w) => w.variable.dispose()));
  try {
    for (const { name, variable } of layers.flatMap((layer) => layer.weights)) {
      const data = weights.get(name);
      if (!data || data.length !== variable.size) throw new Error(`the checkpoint has no value of the right size for weight ${name}`);
      tf.tidy(() => variable.assign(tf.tensor(data, variable.shape)));
    }
  } catch (error) {
    dispose();
    throw error;
  }
  return {
    window: model.inputShape[0]!,
    vocabSize: first.vocabSize!,
    nextLogits(ids) {
      return tf.tidy(() => {
        const input: tf.Tensor = tf.tensor2d(Int32Array.from(ids), [1, ids.length], 'int32');
        const logits = layers.reduce((h, layer) => layer.apply(h, FORWARD_ONLY), input);
        return tf.slice(logits, [0, ids.length - 1, 0], [1, 1, -1]).dataSync() as Float32Array;
      });
    },
    dispose,
  };
}
