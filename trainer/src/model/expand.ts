// The model's layers as the pipeline sees them: `transformerBlock` with `repeat: N` stands for N
// blocks, each a layer of its own, so the partitioner can cut between them, each block has its own
// layer index (for weight names, initialisation seeds, dropout seeds and checkpoint files), and
// `spec.pipeline.partition` counts them one by one.
import type { LayerSpec } from '../api/schema.ts';

export interface ExpandedLayers {
  /** One entry per model layer; repeated blocks appear once per repetition, each with repeat 1. */
  layers: LayerSpec[];
  /** specIndex[i] is the index in spec.model.layers that layers[i] comes from (for error paths). */
  specIndex: number[];
}

export function expandLayers(specs: readonly LayerSpec[]): ExpandedLayers {
  const layers: LayerSpec[] = [];
  const specIndex: number[] = [];
  specs.forEach((spec, index) => {
    const copies = spec.type === 'transformerBlock' ? spec.repeat : 1;
    for (let i = 0; i < copies; i++) {
      layers.push(spec.type === 'transformerBlock' ? { ...spec, repeat: 1 } : spec);
      specIndex.push(index);
    }
  });
  return { layers, specIndex };
}

/** Number of model layers: what stages split and what spec.pipeline.partition must sum to. */
export function modelLayerCount(specs: readonly LayerSpec[]): number {
  return specs.reduce((count, spec) => count + (spec.type === 'transformerBlock' ? spec.repeat : 1), 0);
}

/** The job's model layers, expanded. Language models need their vocabulary resolved first (model/vocabulary.ts). */
export function jobLayers(spec: { model: { layers: LayerSpec[] } }): LayerSpec[] {
  return expandLayers(spec.model.layers).layers;
}
