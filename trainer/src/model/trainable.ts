// Which weights train: the one place that decides it, for fine-tuning. A layer is frozen by
// `trainable: false` or by lying in the first `spec.training.freeze.layers` layers (counted
// expanded, as the partitioner counts them: a transformerBlock with repeat N is N layers). A tied
// lmHead has no weight of its own, only the embedding's matrix, so it trains exactly when the
// embedding does. Frozen weights get no gradient and no optimizer slot; a stage with nothing to
// train before it needs no input gradient, and leading stages with nothing to train run no
// backward at all (schedule/frozen.ts). LoRA (spec.training.lora, model/lora.ts) is decided here
// too: a layer it targets keeps all its own (base) weights frozen and trains only its adapters,
// whatever freeze and trainable say of it; the other layers follow freeze and trainable.
import type { LayerSpec } from '../api/schema.ts';
import type { StageRange } from './partition.ts';
import { expandLayers } from './expand.ts';
import type { Layer, NamedVariable } from './layers.ts';
import { layerTargets, type LoraSpec } from './lora-targets.ts';

/** The parts of a job spec that decide what trains. */
export interface TrainableSpec {
  model: { layers: readonly LayerSpec[] };
  training: { freeze?: { layers: number }; lora?: LoraSpec };
}

/** Per expanded layer: true when its own weights (if it has any; adapters aside) train. */
export function layerTrains(spec: TrainableSpec): boolean[] {
  const layers = expandLayers(spec.model.layers).layers;
  const frozenPrefix = spec.training.freeze?.layers ?? 0;
  const adapted = layerAdapted(spec);
  const own = layers.map((layer, index) => index >= frozenPrefix && layer.trainable !== false && !adapted[index]);
  const embedding = layers.findIndex((layer) => layer.type === 'embedding');
  return layers.map((layer, index) => (isTiedHead(layer) && embedding >= 0 ? own[embedding]! : own[index]!));
}

/** True for layer types with weights (a tied lmHead's is the embedding's copy). */
export function hasWeights(layer: LayerSpec): boolean {
  switch (layer.type) {
    case 'maxPooling2d':
    case 'flatten':
    case 'dropout':
    case 'activation':
      return false;
    default:
      return true;
  }
}

/** Per expanded layer: true when LoRA adapts it (its base frozen, its adapters training). */
export function layerAdapted(spec: TrainableSpec): boolean[] {
  return expandLayers(spec.model.layers).layers.map((layer) => layerTargets(spec.training.lora, layer).length > 0);
}

/** Per expanded layer: true when it has weights that train (its own, or its adapters). */
export function layerHasTrainableWeights(spec: TrainableSpec): boolean[] {
  const trains = layerTrains(spec);
  const adapted = layerAdapted(spec);
  return expandLayers(spec.model.layers).layers.map((layer, index) => adapted[index]! || (trains[index]! && hasWeights(layer)));
}

/** True when some layer before `layer` has weights that train: only then is the input gradient of `layer` needed. */
export function needsInputGradient(spec: TrainableSpec, layer: number): boolean {
  return layerHasTrainableWeights(spec).slice(0, layer).some(Boolean);
}

/**
 * Number of leading stages with nothing to train (and so nothing to train before them): they run
 * no backward, and the stage after them sends no gradient upstream.
 */
export function backwardFreeStages(spec: TrainableSpec, ranges: readonly StageRange[]): number {
  const trainable = layerHasTrainableWeights(spec);
  const first = ranges.findIndex((range) => trainable.slice(range.from, range.to).some(Boolean));
  return first < 0 ? ranges.length : first;
}

/** Whether one weight of a built layer trains: an adapter always, a base weight when its layer trains (never under an adapter). */
export function weightTrains(trains: readonly boolean[], layer: Layer, weight: NamedVariable): boolean {
  if (weight.adapter) return true;
  return layer.adapted !== true && trains[layer.index] === true;
}

/** The weights of `layers` that train, in model order (the order of their gradients and optimizer slots). */
export function trainableWeights(layers: readonly Layer[], trains: readonly boolean[]): NamedVariable[] {
  return layers.flatMap((layer) => layer.weights.filter((weight) => weightTrains(trains, layer, weight)));
}

function isTiedHead(layer: LayerSpec): boolean {
  return layer.type === 'lmHead' && layer.tied;
}
