// Semantic checks of a language model in spec.model: where its layers may stand, what a tied head
// needs, and that the loss, the layers and a tokens (or sft) dataset go together. Shapes (heads dividing the
// width, the window fitting maxLength) are checked by model/language-model-shapes.ts.
import { formatShape } from '../model/shapes.ts';
import type { ExpandedLayers } from '../model/expand.ts';
import { problemAt, type LocatedProblem } from './problems.ts';
import type { PipelineJob } from './schema.ts';

const layerPath = (index: number, field?: string) => ['spec', 'model', 'layers', index, ...(field ? [field] : [])];

/** Problems of how the language-model layers, the loss and the dataset fit together. */
export function checkLanguageModel(job: PipelineJob): LocatedProblem[] {
  const { layers, loss } = job.spec.model;
  // Both give token ids and next-token targets at every position (sft masks the prompt's).
  const datasetType = job.spec.data.dataset.type;
  const tokens = datasetType === 'tokens' || datasetType === 'sft';
  const problems: LocatedProblem[] = [];
  const embeddings = layers.flatMap((layer, i) => (layer.type === 'embedding' ? [i] : []));
  const embedding = layers[embeddings[0] ?? -1];
  if (embeddings.length > 1) problems.push(problemAt(layerPath(embeddings[1]!), 'a model has one embedding, as its first layer; remove this one'));
  layers.forEach((layer, i) => {
    if (layer.type !== 'lmHead') return;
    if (i !== layers.length - 1) problems.push(problemAt(layerPath(i), 'lmHead must be the last layer: its logits feed the loss'));
    if (layer.tied && embedding === undefined) {
      problems.push(problemAt(layerPath(i, 'tied'), 'a tied lmHead shares the embedding matrix, but the model has no embedding layer; add {type: embedding, units: <width>} as the first layer, or set tied: false'));
    }
    if (layer.tied && layer.vocabSize !== undefined && embedding?.type === 'embedding' && embedding.vocabSize !== undefined && layer.vocabSize !== embedding.vocabSize) {
      problems.push(problemAt(layerPath(i, 'vocabSize'), `a tied lmHead has the embedding's vocabulary (${embedding.vocabSize}), got ${layer.vocabSize}; remove vocabSize here`));
    }
  });
  layers.forEach((layer, i) => {
    if (layer.type === 'classificationHead' && i !== layers.length - 1) problems.push(problemAt(layerPath(i), 'classificationHead must be the last layer: its probabilities feed the loss'));
  });
  if (datasetType === 'textClassification') {
    if (layers.at(-1)?.type !== 'classificationHead') problems.push(problemAt(layerPath(layers.length - 1), `a textClassification dataset gives one class per text, so the last layer must be a classificationHead, got ${layers.at(-1)?.type ?? 'none'}; append {type: classificationHead, classes: <number of labels>}`));
    if (layers[0]?.type !== 'embedding') problems.push(problemAt(layerPath(0), `a textClassification dataset gives token ids, so the first layer must be an embedding, got ${layers[0]?.type ?? 'none'}`));
    if (loss !== 'sparseCategoricalCrossentropy') problems.push(problemAt(['spec', 'model', 'loss'], `a textClassification dataset gives class indices; use loss sparseCategoricalCrossentropy, got ${loss}`));
  }
  const endsInHead = layers.at(-1)?.type === 'lmHead';
  if (loss === 'tokenCrossentropy' && !endsInHead) {
    problems.push(problemAt(['spec', 'model', 'loss'], 'tokenCrossentropy is computed from logits at every position, so the last layer must be an lmHead'));
  }
  if (loss !== 'tokenCrossentropy' && (endsInHead || tokens)) {
    const why = tokens ? `a${datasetType === 'sft' ? 'n sft' : ' tokens'} dataset has a next-token target at every position` : 'an lmHead outputs logits for every position';
    problems.push(problemAt(['spec', 'model', 'loss'], `${why}; use loss tokenCrossentropy, got ${loss}`));
  }
  if (loss === 'tokenCrossentropy' && !tokens) {
    problems.push(problemAt(['spec', 'data', 'dataset', 'type'], `tokenCrossentropy needs a tokens or sft dataset (windows of token ids, each target the next token), got ${datasetType}`));
  }
  if (tokens && layers[0]?.type !== 'embedding') {
    problems.push(problemAt(layerPath(0), `a ${datasetType} dataset gives token ids, so the first layer must be an embedding, got ${layers[0]?.type ?? 'none'}`));
  }
  return problems;
}

/** After shape inference: a tied head's input must be as wide as the embedding matrix. */
export function checkTiedWidth(job: PipelineJob, expanded: ExpandedLayers, outputShapes: number[][]): LocatedProblem[] {
  const headIndex = expanded.layers.findIndex((layer) => layer.type === 'lmHead' && layer.tied);
  const embedding = expanded.layers[0];
  if (headIndex < 1 || embedding?.type !== 'embedding') return [];
  const input = outputShapes[headIndex - 1]!;
  const width = input[input.length - 1];
  if (width === embedding.units) return [];
  return [problemAt(layerPath(expanded.specIndex[headIndex]!), `a tied lmHead multiplies by the embedding matrix (units ${embedding.units}), so its input must be ${embedding.units} wide; got ${formatShape(input)}`)];
}
