// A whole model in one process, from trained weights (a checkpoint's, or those the stages reported
// at the end of `pipetrain train`): forward only, no dropout, layer by layer with the layers'
// own apply, as evaluation runs them. `forwardModel` takes any model (`pipetrain predict`);
// `trainedModel` a language model, for sampling.
import * as tf from '@tensorflow/tfjs-core';
import type { LayerSpec, PipelineJobSpec } from '../api/schema.ts';
import { jobLayers } from '../model/expand.ts';
import { buildLayers, type Layer } from '../model/layers.ts';
import type { LoraSpec } from '../model/lora-targets.ts';

export interface ForwardModel {
  inputShape: number[];
  /** The model's layers, repeated blocks expanded. */
  layers: LayerSpec[];
  /** The model's output for a batch `x` (the caller disposes both). */
  forward(x: tf.Tensor): tf.Tensor;
  dispose(): void;
}

export interface TrainedModel {
  /** Longest context the model was trained on (spec.model.inputShape[0]): older tokens are dropped. */
  window: number;
  vocabSize: number;
  /** Logits at the last position for the context `ids` (at most `window` of them). */
  nextLogits(ids: readonly number[]): Float32Array;
  dispose(): void;
}

const FORWARD_ONLY = { training: false, seed: 0, step: 0, microBatch: 0 };

/** `model` has its vocabulary resolved; `weights` by name (a tied copy shares the embedding's name; with `lora`, the adapters too). */
export function forwardModel(model: PipelineJobSpec['model'], seed: number, weights: ReadonlyMap<string, Float32Array>, lora?: LoraSpec): ForwardModel {
  const specs = jobLayers({ model });
  const layers: Layer[] = buildLayers(model.inputShape, specs, seed, 0, specs.length, lora ? { lora } : {});
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
    inputShape: model.inputShape,
    layers: specs,
    forward: (x) => tf.tidy(() => layers.reduce((h, layer) => layer.apply(h, FORWARD_ONLY), x)),
    dispose,
  };
}

/** True for a model that maps token ids to next-token logits: an embedding first, an lmHead last. */
export function isLanguageModel(layers: readonly LayerSpec[]): boolean {
  return layers[0]?.type === 'embedding' && layers[layers.length - 1]?.type === 'lmHead';
}

export function trainedModel(model: PipelineJobSpec['model'], seed: number, weights: ReadonlyMap<string, Float32Array>, lora?: LoraSpec): TrainedModel {
  const specs = jobLayers({ model });
  const first = specs[0];
  if (first?.type !== 'embedding' || !isLanguageModel(specs)) {
    throw new Error('the checkpoint is not of a language model (it needs an embedding first and an lmHead last)');
  }
  const forward = forwardModel(model, seed, weights, lora);
  return {
    window: model.inputShape[0]!,
    vocabSize: first.vocabSize!,
    nextLogits(ids) {
      return tf.tidy(() => {
        const input: tf.Tensor = tf.tensor2d(Int32Array.from(ids), [1, ids.length], 'int32');
        const logits = forward.forward(input);
        return tf.slice(logits, [0, ids.length - 1, 0], [1, 1, -1]).dataSync() as Float32Array;
      });
    },
    dispose: forward.dispose,
  };
}
