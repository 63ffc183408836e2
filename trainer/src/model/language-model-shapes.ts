// Shapes and parameter counts of the language-model layers (see spec/language-model-schema.ts).
// A language model's samples are windows of token ids: spec.model.inputShape is [tokens].
import type { LayerSpec } from '../api/schema.ts';
import { formatShape, ShapeError } from './shape-error.ts';

/** Per-sample output shape and trainable values of one layer. */
export interface LayerResult {
  shape: number[];
  parameters: number;
}

type LanguageModelLayer = Extract<LayerSpec, { type: 'embedding' | 'positionalEmbedding' | 'transformerBlock' | 'lmHead' | 'classificationHead' }>;

export function inferLanguageModelLayer(shape: number[], layer: LanguageModelLayer, index: number): LayerResult {
  switch (layer.type) {
    case 'embedding': {
      if (index !== 0) throw new ShapeError(index, 'embedding takes token ids, so it must be the first layer');
      if (shape.length !== 1) throw new ShapeError(index, `embedding needs spec.model.inputShape [tokens] (a window of token ids), got ${formatShape(shape)}`);
      const vocab = requireVocabulary(layer.vocabSize, index, 'embedding');
      return { shape: [shape[0]!, layer.units], parameters: vocab * layer.units };
    }
    case 'positionalEmbedding': {
      const [tokens, width] = requireSequence(shape, layer.type, index);
      if (tokens > layer.maxLength) {
        throw new ShapeError(index, `the window of ${tokens} tokens (spec.model.inputShape[0]) is longer than maxLength ${layer.maxLength}; raise maxLength or shorten the window`, 'maxLength');
      }
      return { shape, parameters: layer.maxLength * width };
    }
    case 'transformerBlock': {
      const [, width] = requireSequence(shape, layer.type, index);
      if (width % layer.heads !== 0) {
        throw new ShapeError(index, `heads (${layer.heads}) must divide the model width ${width}; divisors of ${width}: ${divisors(width).join(', ')}`, 'heads');
      }
      return { shape, parameters: transformerBlockParameters(width, layer.mlpRatio, layer.useBias) };
    }
    case 'lmHead': {
      if (shape.length === 0) throw new ShapeError(index, 'lmHead needs an input of rank >= 1, got a scalar');
      const vocab = requireVocabulary(layer.vocabSize, index, 'lmHead');
      return { shape: [...shape.slice(0, -1), vocab], parameters: shape[shape.length - 1]! * vocab };
    }
    case 'classificationHead': {
      const [, width] = requireSequence(shape, layer.type, index);
      return { shape: [layer.classes], parameters: width * layer.classes + layer.classes };
    }
  }
}

/** Two LayerNorms, the q/k/v and output projections, the MLP's two projections (biases optional). */
export function transformerBlockParameters(width: number, mlpRatio: number, useBias: boolean): number {
  const hidden = mlpRatio * width;
  const norms = 2 * (useBias ? 2 : 1) * width;
  const attention = width * 3 * width + width * width + (useBias ? 3 * width + width : 0);
  const mlp = width * hidden + hidden * width + (useBias ? hidden + width : 0);
  return norms + attention + mlp;
}

function requireSequence(shape: number[], type: string, index: number): [number, number] {
  const [tokens, width] = shape;
  if (shape.length !== 2 || tokens === undefined || width === undefined) {
    throw new ShapeError(index, `${type} needs an input [tokens, width] (after an embedding), got ${formatShape(shape)} (rank ${shape.length})`);
  }
  return [tokens, width];
}

function requireVocabulary(vocabSize: number | undefined, index: number, type: string): number {
  if (vocabSize === undefined) {
    throw new ShapeError(index, `${type} has no vocabSize, and only a tokens dataset provides a default; set vocabSize or use spec.data.dataset {type: tokens}`, 'vocabSize');
  }
  return vocabSize;
}

function divisors(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
}
