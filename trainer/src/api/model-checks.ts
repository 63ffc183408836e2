// Semantic checks of spec.model against itself, the loss and the dataset: shapes must be possible,
// crossentropy needs per-sample probability vectors, and the data must fit the input and output.
import { expandLayers } from '../model/expand.ts';
import { formatShape, inferLayerShapes, ShapeError } from '../model/shapes.ts';
import { resolveVocabulary } from '../model/vocabulary.ts';
import { checkLanguageModel, checkTiedWidth } from './language-model-checks.ts';
import { problemAt, type LocatedProblem } from './problems.ts';
import type { PipelineJob } from './schema.ts';

const MNIST_PIXELS = 784;
const MNIST_CLASSES = 10;
/**
 * A tokens dataset's vocabulary is in its meta.json, which may not exist yet when a job is
 * validated (it is prepared on first use), an sft dataset's in its tokenizer; shapes are checked
 * with this stand-in, and the real size is compared with the model's when the data is read.
 */
const UNKNOWN_VOCABULARY = 1;

export function checkModel(job: PipelineJob): LocatedProblem[] {
  const structural = checkLanguageModel(job);
  if (structural.length > 0) return structural;
  const { model } = job.spec;
  const vocabulary = ['tokens', 'sft', 'textClassification'].includes(job.spec.data.dataset.type) ? UNKNOWN_VOCABULARY : undefined;
  const expanded = expandLayers(resolveVocabulary(model.layers, vocabulary));
  let outputShapes: number[][];
  try {
    outputShapes = inferLayerShapes(model.inputShape, expanded.layers).outputShapes;
  } catch (error) {
    if (!(error instanceof ShapeError)) throw error;
    return [problemAt(['spec', 'model', 'layers', expanded.specIndex[error.layerIndex]!, ...(error.field ? [error.field] : [])], error.message)];
  }
  const outputShape = outputShapes.at(-1) ?? model.inputShape;
  return [...checkLoss(job, outputShape), ...checkDataset(job, outputShape), ...checkTiedWidth(job, expanded, outputShapes)];
}

/** The losses computed on probabilities (tokenCrossentropy works on logits: language-model-checks.ts). */
function isCrossentropy(job: PipelineJob): boolean {
  return job.spec.model.loss === 'categoricalCrossentropy' || job.spec.model.loss === 'sparseCategoricalCrossentropy';
}

function checkLoss(job: PipelineJob, outputShape: number[]): LocatedProblem[] {
  const { loss, layers } = job.spec.model;
  if (!isCrossentropy(job)) return [];
  const problems: LocatedProblem[] = [];
  if (outputShape.length !== 1) {
    problems.push(
      problemAt(['spec', 'model', 'loss'], `${loss} needs a rank-1 output per sample (one score per class), but the model outputs ${formatShape(outputShape)}; add a flatten layer before the last dense layer`),
    );
  }
  const lastIndex = layers.length - 1;
  const last = layers[lastIndex];
  const softmax = last !== undefined && 'activation' in last && last.activation === 'softmax';
  if (!softmax) {
    const got = last !== undefined && 'activation' in last ? `activation ${last.activation}` : `a ${last?.type ?? 'missing'} layer`;
    problems.push(
      problemAt(['spec', 'model', 'layers', lastIndex], `${loss} is computed on probabilities, so the last layer must apply softmax (set activation: softmax, or append {type: activation, activation: softmax}); got ${got}`),
    );
  }
  return problems;
}

function checkDataset(job: PipelineJob, outputShape: number[]): LocatedProblem[] {
  const { dataset } = job.spec.data;
  const { inputShape } = job.spec.model;
  const datasetPath = ['spec', 'data', 'dataset'];
  const outputs = outputShape.at(-1);
  if (dataset.type === 'mnist') {
    const problems: LocatedProblem[] = [];
    if (product(inputShape) !== MNIST_PIXELS) {
      problems.push(problemAt(['spec', 'model', 'inputShape'], `mnist samples have 784 pixels, e.g. [784] or [28, 28, 1]; got ${formatShape(inputShape)}`));
    }
    if (isCrossentropy(job) && outputs !== MNIST_CLASSES) {
      problems.push(problemAt(['spec', 'model', 'layers', job.spec.model.layers.length - 1], `mnist has 10 classes, so the model must output 10 values; got ${formatShape(outputShape)}`));
    }
    return problems;
  }
  if (dataset.type === 'synthetic') {
    const problems: LocatedProblem[] = [];
    if (formatShape(dataset.featureShape) !== formatShape(inputShape)) {
      problems.push(problemAt([...datasetPath, 'featureShape'], `must equal spec.model.inputShape ${formatShape(inputShape)}, got ${formatShape(dataset.featureShape)}`));
    }
    if (isCrossentropy(job) && dataset.classes === 0) {
      problems.push(problemAt([...datasetPath, 'classes'], `0 means a regression target, which needs loss meanSquaredError; ${job.spec.model.loss} needs classes >= 2`));
    } else if (isCrossentropy(job) && outputs !== dataset.classes) {
      problems.push(problemAt([...datasetPath, 'classes'], `must equal the model's output size (${outputs ?? 0}) for ${job.spec.model.loss}, got ${dataset.classes}`));
    }
    return problems;
  }
  return [];
}

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
