// Decides how many layers each stage gets: the explicit partition, or a balanced one.
import { jobLayers } from '../model/expand.ts';
import { inferLayerShapes } from '../model/shapes.ts';
import { balancePartition, parameterCosts } from '../model/partition.ts';
import { needsVocabulary, resolveVocabulary } from '../model/vocabulary.ts';
import type { PipelineJobSpec } from '../api/schema.ts';

/** Measures each layer's forward+backward time (model/profile.ts; it needs TensorFlow.js). */
export type LayerProfiler = (spec: PipelineJobSpec) => number[];

/** Non-last stages recompute their forward in the backward pass: ≈ +30 % (shared/notes/tfjs.md §6). */
const RECOMPUTE_FACTOR = 1.3;

export interface PartitionPlan {
  sizes: number[];
  /** How the sizes were chosen, for the log. */
  reason: string;
  costs?: number[];
}

/**
 * `profile` measures with `profiler` on the current tfjs backend, so initialise the job's backend
 * first. The profiler is passed in so that callers that cannot profile (the operator) do not load
 * TensorFlow.js, about 75 MB of memory; without one, layers are balanced by parameter count and the
 * reason says so.
 */
export function planPartition(spec: PipelineJobSpec, profiler?: LayerProfiler): PartitionPlan {
  const { partition, stages, partitionPolicy } = spec.pipeline;
  if (partition) return { sizes: partition, reason: 'explicit partition' };
  const count = stages ?? 1;
  if (partitionPolicy === 'profile' && profiler) {
    const costs = profiler(spec);
    return { sizes: balancePartition(costs, count, RECOMPUTE_FACTOR), reason: 'balanced by measured layer time', costs };
  }
  // Without the data's vocabulary (the operator does not read the data), the embedding and the
  // head are priced as if it had one entry: balanced by the blocks alone.
  const unknownVocabulary = needsVocabulary(spec.model.layers);
  const layers = jobLayers({ model: { layers: resolveVocabulary(spec.model.layers, unknownVocabulary ? 1 : undefined) } });
  const { parameterCounts } = inferLayerShapes(spec.model.inputShape, layers);
  const costs = parameterCosts(parameterCounts);
  const reasons = [
    'balanced by parameter count',
    ...(partitionPolicy === 'profile' ? ['partitionPolicy "profile" needs TensorFlow.js here'] : []),
    ...(unknownVocabulary ? ['without the vocabulary, which is read with the data'] : []),
  ];
  return { sizes: balancePartition(costs, count), reason: reasons.join(': '), costs };
}
