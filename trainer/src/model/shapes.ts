// Per-sample output shapes and parameter counts of a layer list, without TensorFlow.js.
// Used by `pipetrain validate` (reject impossible models early), the parameter-balancing
// partitioner and the model builder. Shapes never include the batch dimension. The list is the
// expanded one (model/expand.ts: one entry per transformer block) with vocabularies resolved
// (model/vocabulary.ts).
import type { LayerSpec } from '../api/schema.ts';
import { inferLanguageModelLayer, type LayerResult } from './language-model-shapes.ts';
import { formatShape, ShapeError } from './shape-error.ts';

export { formatShape, ShapeError } from './shape-error.ts';

export interface LayerShapes {
  /** outputShapes[i] is the per-sample shape after layers[i]. */
  outputShapes: number[][];
  /** parameterCounts[i] is the number of trainable values in layers[i] (a tied lmHead counts its copy of the embedding). */
  parameterCounts: number[];
  /** Values counted twice above: the tied lmHead's copy of the embedding matrix. */
  tiedParameters: number;
}

export function inferLayerShapes(inputShape: number[], layers: LayerSpec[]): LayerShapes {
  const outputShapes: number[][] = [];
  const parameterCounts: number[] = [];
  let tiedParameters = 0;
  let shape = inputShape;
  layers.forEach((layer, index) => {
    const result = inferLayer(shape, layer, index);
    if (result.shape.some((size) => !Number.isInteger(size) || size < 1)) {
      throw new ShapeError(index, `${layer.type} turns shape ${formatShape(shape)} into ${formatShape(result.shape)}, which is empty`);
    }
    outputShapes.push(result.shape);
    parameterCounts.push(result.parameters);
    if (layer.type === 'lmHead' && layer.tied) tiedParameters += result.parameters;
    shape = result.shape;
  });
  return { outputShapes, parameterCounts, tiedParameters };
}

function inferLayer(shape: number[], layer: LayerSpec, index: number): LayerResult {
  switch (layer.type) {
    case 'dense':
      return dense(shape, layer.units, layer.useBias, index);
    case 'conv2d': {
      const [h, w, c] = requireImage(shape, layer.type, index);
      const out = [
        windowOutput(h, layer.kernelSize, layer.strides, layer.padding),
        windowOutput(w, layer.kernelSize, layer.strides, layer.padding),
        layer.filters,
      ];
      const bias = layer.useBias ? layer.filters : 0;
      return { shape: out, parameters: layer.kernelSize * layer.kernelSize * c * layer.filters + bias };
    }
    case 'maxPooling2d': {
      const [h, w, c] = requireImage(shape, layer.type, index);
      const strides = layer.strides ?? layer.poolSize;
      const out = [
        windowOutput(h, layer.poolSize, strides, layer.padding),
        windowOutput(w, layer.poolSize, strides, layer.padding),
        c,
      ];
      return { shape: out, parameters: 0 };
    }
    case 'flatten':
      return { shape: [shape.reduce((a, b) => a * b, 1)], parameters: 0 };
    case 'dropout':
    case 'activation':
      return { shape, parameters: 0 };
    case 'layerNormalization':
      return { shape, parameters: (layer.center ? 2 : 1) * lastAxis(shape) };
    case 'embedding':
    case 'positionalEmbedding':
    case 'transformerBlock':
    case 'lmHead':
    case 'classificationHead':
      return inferLanguageModelLayer(shape, layer, index);
  }
}

// Dense multiplies the last axis only, so it also applies to [h, w, c] inputs (per pixel).
function dense(shape: number[], units: number, useBias: boolean, index: number): LayerResult {
  if (shape.length === 0) throw new ShapeError(index, 'dense needs an input of rank >= 1, got a scalar');
  const inputs = lastAxis(shape);
  return { shape: [...shape.slice(0, -1), units], parameters: inputs * units + (useBias ? units : 0) };
}

function requireImage(shape: number[], type: string, index: number): [number, number, number] {
  const [h, w, c] = shape;
  if (shape.length !== 3 || h === undefined || w === undefined || c === undefined) {
    throw new ShapeError(
      index,
      `${type} needs a rank-3 input [height, width, channels], got ${formatShape(shape)} (rank ${shape.length})`,
    );
  }
  return [h, w, c];
}

/** TensorFlow's output size: valid = ceil((n - k + 1) / s), same = ceil(n / s). */
export function windowOutput(size: number, window: number, strides: number, padding: 'valid' | 'same'): number {
  return padding === 'same' ? Math.ceil(size / strides) : Math.ceil((size - window + 1) / strides);
}

function lastAxis(shape: number[]): number {
  return shape[shape.length - 1] ?? 1;
}
