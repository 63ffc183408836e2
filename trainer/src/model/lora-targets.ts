// Which layers LoRA adapts (spec.training.lora.targets), without TensorFlow.js: the job checks and
// the trainable-weights decision need it, and `pipetrain validate`/`operator` must not load tfjs.
import type { LayerSpec, PipelineJobSpec } from '../api/schema.ts';

export type LoraSpec = NonNullable<PipelineJobSpec['training']['lora']>;
export type LoraTarget = LoraSpec['targets'][number];

/** The targets a layer kind offers: a dense layer its kernel, a transformerBlock its attention and MLP products. */
export function targetsOf(layer: LayerSpec): LoraTarget[] {
  switch (layer.type) {
    case 'dense': return ['dense'];
    case 'transformerBlock': return ['attention', 'mlp'];
    default: return [];
  }
}

/** The targets of `lora` that apply to `layer` (none without lora). */
export function layerTargets(lora: LoraSpec | undefined, layer: LayerSpec): LoraTarget[] {
  return lora ? targetsOf(layer).filter((target) => lora.targets.includes(target)) : [];
}
