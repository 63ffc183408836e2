// Small job specs for tests: fast to train, yet covering every layer kind and optimizer.
import { PipelineJobSchema, type PipelineJobSpec } from '../../trainer/src/api/schema.ts';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> | T[K] : T[K] };

/** A 6-layer MLP on synthetic data: dense, dropout, layer norm, activation, softmax. */
export function tinyMlpJob(spec: DeepPartial<PipelineJobSpec> = {}): PipelineJobSpec {
  return PipelineJobSchema.parse({
    apiVersion: 'pipetrain.io/v1alpha1',
    kind: 'PipelineJob',
    metadata: { name: 'tiny' },
    spec: {
      model: {
        inputShape: [12],
        loss: 'sparseCategoricalCrossentropy',
        layers: [
          { type: 'dense', units: 16, activation: 'relu' },
          { type: 'dropout', rate: 0.2 },
          { type: 'dense', units: 16 },
          { type: 'layerNormalization' },
          { type: 'activation', activation: 'tanh' },
          { type: 'dense', units: 4, activation: 'softmax' },
        ],
      },
      pipeline: { stages: 2, microBatches: 2 },
      data: { dataset: { type: 'synthetic', seed: 3, samples: 400, featureShape: [12], classes: 4 }, batchSize: 20, validationSplit: 0.1 },
      training: { steps: 3, optimizer: { type: 'adam', learningRate: 0.01 }, gradientClipNorm: 1, backend: 'cpu' },
      ...spec,
    },
  }).spec;
}

/** A small convolutional model on 8×8×1 synthetic images. */
export function tinyConvJob(spec: DeepPartial<PipelineJobSpec> = {}): PipelineJobSpec {
  return PipelineJobSchema.parse({
    apiVersion: 'pipetrain.io/v1alpha1',
    kind: 'PipelineJob',
    metadata: { name: 'tiny-conv' },
    spec: {
      model: {
        inputShape: [8, 8, 1],
        loss: 'categoricalCrossentropy',
        layers: [
          { type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' },
          { type: 'maxPooling2d', poolSize: 2 },
          { type: 'conv2d', filters: 4, kernelSize: 3, strides: 2 },
          { type: 'flatten' },
          { type: 'dense', units: 3, activation: 'softmax' },
        ],
      },
      pipeline: { stages: 2, microBatches: 2 },
      data: { dataset: { type: 'synthetic', seed: 5, samples: 200, featureShape: [8, 8, 1], classes: 3 }, batchSize: 8 },
      training: { steps: 2, optimizer: { type: 'momentum', learningRate: 0.05 }, backend: 'cpu' },
      ...spec,
    },
  }).spec;
}
