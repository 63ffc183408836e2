// Which layer of a weight source each of the job's layers starts from. A layer is matched by its
// `name` when it has one (the source layer of the same name; a repeated block's copies by name and
// repetition), else by position: the unnamed source layer at the same expanded index. So a job
// that keeps the body of its source and replaces the head gives the new head a new name (or one
// the source does not have) and it starts fresh; a matched pair must have the same type and the
// same weight shapes, else it is an error naming the layer and both shapes. Only layers that hold
// weights count: a dropout or flatten layer has nothing to carry over.
import type { LayerSpec } from '../api/schema.ts';
import { formatShape } from '../model/shapes.ts';
import { expandLayers } from '../model/expand.ts';
import type { TensorRecord } from '../checkpoint/types.ts';
import { ModelSourceError, weightLayerIndex, weightSuffix } from './weight-source.ts';

export interface MatchPlan {
  /** sourceOf[i]: the source layer (expanded index) job layer i starts from; undefined: fresh. */
  sourceOf: (number | undefined)[];
  /** Job layers with weights that the source lacks: they start fresh, seeded as usual. */
  fresh: number[];
  /** Source layers with weights that no job layer takes: ignored. */
  dropped: number[];
  /** One line per fresh or dropped layer, for the log. */
  notes: string[];
}

interface KeyedLayer {
  index: number;
  specIndex: number;
  spec: LayerSpec;
  key: string;
}

/** `job` and `source` are spec.model.layers lists (not expanded); `where` names the source in messages. */
export function matchLayers(job: LayerSpec[], source: LayerSpec[], where: string): MatchPlan {
  const ours = keyed(job);
  const theirs = new Map(keyed(source).map((layer) => [layer.key, layer]));
  const taken = new Set<number>();
  const sourceOf = ours.map((layer) => {
    const match = hasWeights(layer.spec) ? theirs.get(layer.key) : undefined;
    if (!match || !hasWeights(match.spec)) return undefined;
    if (match.spec.type !== layer.spec.type) {
      throw new ModelSourceError(
        `spec.model.layers[${layer.specIndex}]: is a ${layer.spec.type} layer, but the layer it matches in ${where} (${describe(match)}) is a ${match.spec.type}; give it a name the source does not have to start it fresh`,
      );
    }
    taken.add(match.index);
    return match.index;
  });
  const fresh = ours.filter((layer) => hasWeights(layer.spec) && sourceOf[layer.index] === undefined);
  const dropped = keyed(source).filter((layer) => hasWeights(layer.spec) && !taken.has(layer.index));
  const notes = [
    ...fresh.map((layer) => `spec.model.layers[${layer.specIndex}] (${describe(layer)}): not in ${where}; starts fresh, seeded as usual`),
    ...dropped.map((layer) => `${where}: ${describe(layer)} is not in spec.model.layers; ignored`),
  ];
  return { sourceOf, fresh: fresh.map((l) => l.index), dropped: dropped.map((l) => l.index), notes };
}

/** True when every job layer starts from the source layer of the same index and nothing is dropped. */
export function isIdentical(plan: MatchPlan): boolean {
  return plan.fresh.length === 0 && plan.dropped.length === 0 && plan.sourceOf.every((s, i) => s === undefined || s === i);
}

/** The source weight a job weight starts from (by name), or undefined when its layer starts fresh. */
export function sourceWeightName(plan: MatchPlan, source: LayerSpec[], weightName: string): string | undefined {
  const index = weightLayerIndex(weightName);
  const from = index === undefined ? undefined : plan.sourceOf[index];
  if (from === undefined) return undefined;
  const spec = expandLayers(source).layers[from]!;
  return `layer${from}_${spec.type}/${weightSuffix(weightName)}`;
}

/** The source layers (expanded indices) holding what these job weights start from. */
export function sourceLayersFor(plan: MatchPlan, source: LayerSpec[], weightNames: string[]): number[] {
  const names = weightNames.map((name) => sourceWeightName(plan, source, name)).filter((n): n is string => n !== undefined);
  return [...new Set(names.map((name) => weightLayerIndex(name)!))].sort((a, b) => a - b);
}

/**
 * The starting value of each job weight that has one in the source, by job weight name. A weight
 * the source layer lacks, or one of another shape, is an error naming the layer and both shapes.
 */
export function matchWeights(
  plan: MatchPlan, job: LayerSpec[], source: LayerSpec[], targets: { name: string; shape: readonly number[] }[], weights: Map<string, TensorRecord>, where: string,
): Map<string, TensorRecord> {
  const specIndex = expandLayers(job).specIndex;
  const assigned = new Map<string, TensorRecord>();
  for (const target of targets) {
    const from = sourceWeightName(plan, source, target.name);
    if (from === undefined) continue;
    const layer = `spec.model.layers[${specIndex[weightLayerIndex(target.name)!]}]`;
    const record = weights.get(from);
    if (!record) throw new ModelSourceError(`${layer}: ${where} has no weight ${from} for ${target.name}; the layers differ (e.g. useBias, center or tied); make them agree or give the layer a new name to start it fresh`);
    if (formatShape(record.shape) !== formatShape([...target.shape])) {
      throw new ModelSourceError(
        `${layer}: weight ${weightSuffix(target.name)} has shape ${formatShape([...target.shape])} in this job but ${formatShape(record.shape)} in ${where} (${from}); change the layer to match, or give it a new name to start it fresh`,
      );
    }
    assigned.set(target.name, record);
  }
  return assigned;
}

/** Layers that store weights of their own (a tied lmHead shares the embedding's). */
function hasWeights(spec: LayerSpec): boolean {
  switch (spec.type) {
    case 'maxPooling2d':
    case 'flatten':
    case 'dropout':
    case 'activation':
      return false;
    case 'lmHead':
      return !spec.tied;
    default:
      return true;
  }
}

function keyed(specs: LayerSpec[]): KeyedLayer[] {
  const { layers, specIndex } = expandLayers(specs);
  const repetition = new Map<number, number>();
  return layers.map((spec, index) => {
    const from = specIndex[index]!;
    const copy = repetition.get(from) ?? 0;
    repetition.set(from, copy + 1);
    const repeated = specs[from]!.type === 'transformerBlock' && (specs[from] as { repeat: number }).repeat > 1;
    const key = spec.name === undefined ? `#${index}` : repeated ? `${spec.name}[${copy}]` : spec.name;
    return { index, specIndex: from, spec, key };
  });
}

function describe(layer: KeyedLayer): string {
  return layer.spec.name === undefined ? `layer ${layer.index}, ${layer.spec.type}` : `layer ${layer.index}, ${layer.spec.type} "${layer.spec.name}"`;
}
