// Loads the job's dataset: samples (split off the validation set here), prepared tokens or demonstrations (sft).
import { isAbsolute, resolve } from 'node:path';
import { jobLayers } from '../model/expand.ts';
import { inferLayerShapes } from '../model/shapes.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import { DataError, type SplitDataset } from './dataset.ts';
import { loadFileDataset } from './file-dataset.ts';
import { loadMnist } from './mnist.ts';
import { splitDataset } from './plan.ts';
import { loadSftData, withSftVocabulary, isSftData, type SftData } from './sft-data.ts';
import { makeSynthetic } from './synthetic.ts';
import { loadTextClassification } from './text-classification-data.ts';
import type { TokenizerSpec } from './tokenizer.ts';
import { loadTokenData, withDataVocabulary, type TokenData } from './token-data.ts';

/** Everything a stage trains and evaluates on. */
export type TrainingData = SplitDataset | TokenData | SftData;

export function isTokenData(data: TrainingData): data is TokenData {
  return 'kind' in data && data.kind === 'tokens';
}

/** The tokenizer a language model's data was tokenized with (tokens and sft datasets). */
export function dataTokenizer(data: TrainingData): TokenizerSpec | undefined {
  if (isTokenData(data)) return data.meta.tokenizer;
  return isSftData(data) ? data.tokenizer : undefined;
}

/**
 * The job's data, and its spec with the data's vocabulary filled in (unchanged for sample
 * datasets). `baseDir` resolves relative paths (the folder of the job file).
 */
export async function loadTrainingData(spec: PipelineJobSpec, baseDir = process.cwd()): Promise<{ spec: PipelineJobSpec; data: TrainingData }> {
  if (spec.data.dataset.type === 'sft') {
    const sft = await loadSftData(spec, baseDir);
    return { spec: withSftVocabulary(spec, sft), data: sft };
  }
  if (spec.data.dataset.type === 'textClassification') {
    const texts = await loadTextClassification(spec, baseDir);
    return { spec: texts.spec, data: texts.data };
  }
  if (spec.data.dataset.type !== 'tokens') return { spec, data: await loadJobData(spec, baseDir) };
  const data = await loadTokenData(spec, baseDir);
  return { spec: withDataVocabulary(spec, data.meta), data };
}

/** A sample dataset (not tokens); `baseDir` resolves a relative `file` dataset path (the folder of the job file). */
export async function loadJobData(spec: PipelineJobSpec, baseDir = process.cwd()): Promise<SplitDataset> {
  const dataset = spec.data.dataset;
  const classification = spec.model.loss !== 'meanSquaredError';
  const { outputShapes } = inferLayerShapes(spec.model.inputShape, jobLayers(spec));
  const outputShape = outputShapes[outputShapes.length - 1] ?? spec.model.inputShape;
  let data;
  switch (dataset.type) {
    case 'mnist':
      data = await loadMnist();
      break;
    case 'synthetic':
      data = makeSynthetic({ ...dataset, classes: classification ? dataset.classes : 0 }, outputShape.reduce((a, b) => a * b, 1));
      break;
    case 'file': {
      const path = isAbsolute(dataset.path) ? dataset.path : resolve(baseDir, dataset.path);
      data = await loadFileDataset({ ...dataset, path }, classification, spec.model.inputShape);
      break;
    }
    case 'tokens':
    case 'sft':
    case 'textClassification':
      throw new Error(`a ${dataset.type} dataset is loaded with loadTrainingData`);
  }
  checkCompatible(spec, data.featureShape, data.classes, outputShape);
  // Samples are reshaped to the model's input shape (e.g. MNIST's 784 pixels as 28×28×1).
  const shaped = { ...data, featureShape: [...spec.model.inputShape] };
  return splitDataset(shaped, spec.data.validationSplit, spec.data.shuffle.seed);
}

function checkCompatible(spec: PipelineJobSpec, featureShape: number[], classes: number, outputShape: number[]): void {
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  if (size(featureShape) !== size(spec.model.inputShape)) {
    throw new DataError(`spec.model.inputShape: [${spec.model.inputShape.join(', ')}] does not match the dataset's samples of shape [${featureShape.join(', ')}]`);
  }
  const outputs = outputShape[outputShape.length - 1] ?? 1;
  if (classes > 0 && outputs < classes) {
    throw new DataError(`spec.model.layers: the last layer has ${outputs} outputs but the dataset has ${classes} classes; set units: ${classes}`);
  }
}
