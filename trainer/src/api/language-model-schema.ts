// The layer types of GPT-style language models in spec.model.layers. A model is, in order:
// embedding, positionalEmbedding, transformerBlock (repeat: N), layerNormalization, lmHead, with
// loss tokenCrossentropy and a tokens dataset. Names and defaults follow GPT-2 and nanoGPT.
import { z } from 'zod';
import { dropoutRate, layerName, positiveInt, trainable } from './layer-fields.ts';

/** Bound on transformerBlock.repeat: far above real models; keeps the expanded layer count priceable. */
export const MAX_REPEAT = 256;

const EmbeddingLayer = z
  .strictObject({
    type: z.literal('embedding').describe('type: "embedding", maps each token id to a learned vector (GPT-2\'s wte); it must be the first layer, and spec.model.inputShape is [tokens].'),
    name: layerName,
    trainable,
    units: positiveInt.describe('units: length of each token vector, the width of the model. Required, >= 1.'),
    vocabSize: positiveInt
      .optional()
      .describe('vocabSize: number of distinct token ids. Default: the vocabulary of the tokens dataset (its meta.json); it must equal that vocabulary when given.'),
  })
  .describe('Token embedding: [tokens] integer ids → [tokens, units]; weights drawn from N(0, 0.02).');

const PositionalEmbeddingLayer = z
  .strictObject({
    type: z.literal('positionalEmbedding').describe('type: "positionalEmbedding", adds a learned vector per position (GPT-2\'s wpe) to its input.'),
    name: layerName,
    trainable,
    maxLength: positiveInt.describe('maxLength: longest sequence it can encode, in tokens; must be >= spec.model.inputShape[0] (the training window). Required.'),
    dropout: dropoutRate.default(0).describe('dropout: fraction of the summed embeddings dropped during training (nanoGPT\'s embedding dropout), in [0, 1). Default 0.'),
  })
  .describe('Learned positional embedding: [tokens, units] → [tokens, units]; weights drawn from N(0, 0.02).');

const TransformerBlockLayer = z
  .strictObject({
    type: z.literal('transformerBlock').describe('type: "transformerBlock", GPT-2\'s block: LayerNorm, causal self-attention, residual, LayerNorm, MLP, residual.'),
    name: layerName,
    trainable,
    heads: positiveInt.describe('heads: number of attention heads; must divide the model width. Required.'),
    repeat: positiveInt
      .max(MAX_REPEAT)
      .default(1)
      .describe(`repeat: number of identical blocks in a row, each with its own weights. Each counts as one layer for partitioning and spec.pipeline.partition, so stages may split between them. Default 1, at most ${MAX_REPEAT}.`),
    mlpRatio: positiveInt.default(4).describe('mlpRatio: width of the MLP\'s hidden layer as a multiple of the model width. Default 4.'),
    dropout: dropoutRate
      .default(0)
      .describe('dropout: rate applied to the attention weights, after the attention projection and after the MLP, during training, in [0, 1). Default 0.'),
    useBias: z
      .boolean()
      .default(true)
      .describe('useBias: biases in the attention and MLP projections and offsets in both LayerNorms, as GPT-2; false is nanoGPT\'s bias=False. Default true.'),
  })
  .describe(
    'GPT-2\'s transformer block exactly: pre-LayerNorm (epsilon 1e-5), causal multi-head self-attention scaled by 1/√(head size), residual, pre-LayerNorm, MLP with GELU (tanh approximation), residual. Projections drawn from N(0, 0.02); the two residual projections from N(0, 0.02/√(2·blocks)), as nanoGPT.',
  );

const LmHeadLayer = z
  .strictObject({
    type: z.literal('lmHead').describe('type: "lmHead", logits over the vocabulary at every position; it must be the last layer, with loss tokenCrossentropy.'),
    name: layerName,
    trainable,
    tied: z
      .boolean()
      .default(false)
      .describe('tied: use the embedding matrix (transposed) as the output projection, as GPT-2 does; needs an embedding layer. Across stages its two gradients are summed exactly before every update, and checkpoints store it once. Default false.'),
    vocabSize: positiveInt
      .optional()
      .describe('vocabSize: number of logits of an untied head. Default: the embedding\'s vocabulary (or the tokens dataset\'s).'),
  })
  .describe('Language-model head: [tokens, units] → [tokens, vocabSize] logits, without bias; an untied projection is drawn from N(0, 0.02).');

const ClassificationHeadLayer = z
  .strictObject({
    type: z.literal('classificationHead').describe('type: "classificationHead", class probabilities from the hidden state of the last position: classification on top of a language model body.'),
    name: layerName,
    trainable,
    classes: positiveInt.min(2).describe('classes: number of classes (the labels 0..classes-1). Required, >= 2.'),
    activation: z
      .literal('softmax')
      .default('softmax')
      .describe('activation: always "softmax": sparseCategoricalCrossentropy and categoricalCrossentropy are computed on probabilities. Default "softmax".'),
  })
  .describe(
    'Classification head: [tokens, units] → [classes] probabilities: takes the last position\'s hidden state (with causal attention, the only one that has seen the whole text; a textClassification dataset pads on the left so that position is the text\'s last token), then a dense projection with bias (Glorot-uniform kernel, zero bias, seeded) and softmax. A new head, so spec.model.from leaves it fresh.',
  );

export const languageModelLayers = [EmbeddingLayer, PositionalEmbeddingLayer, TransformerBlockLayer, LmHeadLayer, ClassificationHeadLayer] as const;
