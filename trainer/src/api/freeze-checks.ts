// Semantic checks of freezing (fine-tuning): spec.training.freeze.layers and per-layer
// `trainable`, against the model's layers as the partitioner counts them (a transformerBlock with
// repeat N is N layers; model/expand.ts). What trains is decided in model/trainable.ts.
import { expandLayers, modelLayerCount } from '../model/expand.ts';
import { layerHasTrainableWeights } from '../model/trainable.ts';
import { problemAt, type LocatedProblem } from './problems.ts';
import type { PipelineJob } from './schema.ts';

const FREEZE_PATH = ['spec', 'training', 'freeze', 'layers'];
const trainablePath = (index: number) => ['spec', 'model', 'layers', index, 'trainable'];

export function checkFreezing(job: PipelineJob): LocatedProblem[] {
  const { model, training } = job.spec;
  const layers = modelLayerCount(model.layers);
  const frozenPrefix = training.freeze?.layers ?? 0;
  if (frozenPrefix > layers) {
    const counted = layers === model.layers.length ? `${layers}` : `${layers}, each repeated transformerBlock counted`;
    return [problemAt(FREEZE_PATH, `must be <= the number of layers (${counted}), got ${frozenPrefix}`)];
  }
  const problems = [...contradictions(job, frozenPrefix), ...tiedHeadConflicts(job)];
  if (problems.length > 0) return problems;
  if (!layerHasTrainableWeights(job.spec).some(Boolean)) {
    const where = training.freeze ? FREEZE_PATH : ['spec', 'model', 'layers'];
    problems.push(problemAt(where, 'nothing to train: every layer with weights is frozen (spec.training.freeze.layers or trainable: false); lower spec.training.freeze.layers or remove trainable: false from a layer with weights'));
  }
  return problems;
}

/** `trainable: true` on a layer inside the frozen prefix says two things at once. */
function contradictions(job: PipelineJob, frozenPrefix: number): LocatedProblem[] {
  const { specIndex } = expandLayers(job.spec.model.layers);
  const inPrefix = new Set(specIndex.slice(0, frozenPrefix));
  return job.spec.model.layers.flatMap((layer, index) =>
    layer.trainable === true && inPrefix.has(index)
      ? [problemAt(trainablePath(index), `says true, but the layer is among the first ${frozenPrefix} that spec.training.freeze.layers freezes; remove trainable here or lower freeze.layers`)]
      : [],
  );
}

/** A tied lmHead is the embedding's matrix: it cannot train while the embedding is frozen, or the other way round. */
function tiedHeadConflicts(job: PipelineJob): LocatedProblem[] {
  const { layers } = job.spec.model;
  const embedding = layers.findIndex((layer) => layer.type === 'embedding');
  if (embedding < 0) return [];
  const frozenPrefix = job.spec.training.freeze?.layers ?? 0;
  const embeddingTrains = embedding >= frozenPrefix && layers[embedding]!.trainable !== false;
  return layers.flatMap((layer, index) => {
    if (layer.type !== 'lmHead' || !layer.tied || layer.trainable === undefined || layer.trainable === embeddingTrains) return [];
    return [
      problemAt(trainablePath(index), `a tied lmHead shares the embedding's matrix, which ${embeddingTrains ? 'trains' : 'is frozen'}; remove trainable here (the head follows the embedding), freeze or unfreeze the embedding (layer ${embedding}), or set tied: false`),
    ];
  });
}
