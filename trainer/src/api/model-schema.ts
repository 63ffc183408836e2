// The `spec.model` part of the PipelineJob schema: input shape, ordered layers and loss.
// Layers form a discriminated union on `type`; the CRD generator merges it into one object node.
import { z } from 'zod';
import { languageModelLayers } from './language-model-schema.ts';
import { layerName, positiveInt, trainable, useBias } from './layer-fields.ts';
import { ModelSourceSchema } from './model-source-schema.ts';

export const ActivationSchema = z
  .enum(['linear', 'relu', 'sigmoid', 'tanh', 'softmax'])
  .describe('activation: element-wise function applied to the output.');

const name = layerName;
const padding = z
  .enum(['valid', 'same'])
  .default('valid')
  .describe('padding: "valid" (no padding) or "same" (pad so output = ceil(input / strides)), as in TensorFlow. Default "valid".');
const activation = ActivationSchema.default('linear').describe(
  'activation: function applied to the output: linear, relu, sigmoid, tanh or softmax. Default "linear".',
);

const DenseLayer = z
  .strictObject({
    type: z.literal('dense').describe('type: "dense", a fully connected layer applied to the last axis.'),
    name,
    trainable,
    units: positiveInt.describe('units: size of the output (last axis). Required, >= 1.'),
    activation,
    useBias,
  })
  .describe('A fully connected layer on the last axis.');

const Conv2dLayer = z
  .strictObject({
    type: z.literal('conv2d').describe('type: "conv2d", a 2-D convolution over [height, width, channels] input.'),
    name,
    trainable,
    filters: positiveInt.describe('filters: number of output channels. Required, >= 1.'),
    kernelSize: positiveInt.describe('kernelSize: side of the square kernel, in pixels. Required, >= 1.'),
    strides: positiveInt.default(1).describe('strides: step of the kernel in both directions, in pixels. Default 1.'),
    padding,
    activation,
    useBias,
  })
  .describe('A 2-D convolution with a square kernel.');

const MaxPooling2dLayer = z
  .strictObject({
    type: z.literal('maxPooling2d').describe('type: "maxPooling2d", 2-D max pooling over [height, width, channels].'),
    name,
    trainable,
    poolSize: positiveInt.default(2).describe('poolSize: side of the square pooling window, in pixels. Default 2.'),
    strides: positiveInt
      .optional()
      .describe('strides: step of the window in both directions, in pixels. Default: poolSize.'),
    padding,
  })
  .describe('2-D max pooling with a square window.');

const FlattenLayer = z
  .strictObject({
    type: z.literal('flatten').describe('type: "flatten", reshapes each sample to a vector.'),
    name,
    trainable,
  })
  .describe('Reshapes each sample to rank 1.');

const DropoutLayer = z
  .strictObject({
    type: z.literal('dropout').describe('type: "dropout", zeroes a random fraction of values during training.'),
    name,
    trainable,
    rate: z.number().min(0).lt(1).describe('rate: fraction of values dropped during training, in [0, 1). Required.'),
  })
  .describe('Dropout; masks are seeded per (step, micro-batch, layer).');

const ActivationLayer = z
  .strictObject({
    type: z.literal('activation').describe('type: "activation", applies an activation function on its own.'),
    name,
    trainable,
    activation: ActivationSchema.describe('activation: function to apply: linear, relu, sigmoid, tanh or softmax. Required.'),
  })
  .describe('A stand-alone activation function.');

const LayerNormalizationLayer = z
  .strictObject({
    type: z.literal('layerNormalization').describe('type: "layerNormalization", normalizes each sample over its last axis.'),
    name,
    trainable,
    epsilon: z.number().positive().default(1e-3).describe('epsilon: added to the variance to avoid division by zero. Default 0.001 (GPT-2 uses 1e-5).'),
    center: z.boolean().default(true).describe('center: add a learned offset (beta) after normalizing; false gives a LayerNorm without bias, as nanoGPT\'s bias=False. Default true.'),
  })
  .describe('Layer normalization over the last axis (exact under micro-batching, unlike batch normalization).');

export const LayerSchema = z
  .discriminatedUnion('type', [
    DenseLayer,
    Conv2dLayer,
    MaxPooling2dLayer,
    FlattenLayer,
    DropoutLayer,
    ActivationLayer,
    LayerNormalizationLayer,
    ...languageModelLayers,
  ])
  .describe('One layer; the fields allowed depend on its type.');

/** Every layer type the schema accepts, in documentation order. */
export const LAYER_TYPES = LayerSchema.options.map((option) => option.shape.type.value);

export const LossSchema = z
  .enum(['categoricalCrossentropy', 'sparseCategoricalCrossentropy', 'meanSquaredError', 'tokenCrossentropy'])
  .describe(
    'loss: categoricalCrossentropy (one-hot labels), sparseCategoricalCrossentropy (integer labels), meanSquaredError, or tokenCrossentropy (language models: the next token at every position). The first two are computed on probabilities, so the last layer must end in softmax; tokenCrossentropy is computed from logits (an lmHead) with a numerically stable log-softmax and averaged over every position of every sample. Required.',
  );

// Bounds the API server needs to price its CEL rules (see crd-rules.ts); far above real models.
export const MAX_LAYERS = 256;
export const MAX_RANK = 8;

export const ModelSchema = z
  .strictObject({
    inputShape: z
      .array(positiveInt)
      .min(1)
      .max(MAX_RANK)
      .describe(`inputShape: shape of one input sample, without the batch dimension, e.g. [784] or [28, 28, 1]; at most ${MAX_RANK} dimensions. Required.`),
    layers: z
      .array(LayerSchema)
      .min(1)
      .max(MAX_LAYERS)
      .describe(`layers: the ordered layers of the model; stages hold contiguous slices of this list. Required, 1 to ${MAX_LAYERS}. In a job file read by the pipetrain CLI, "fromModel" takes the layers (and, when not given, inputShape) of spec.model.from.tfjsLayers; the API server needs them written out.`),
    loss: LossSchema,
    from: ModelSourceSchema.optional(),
  })
  .describe('model: the network to train and its loss.');
