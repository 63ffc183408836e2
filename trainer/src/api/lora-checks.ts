// Semantic checks of spec.training.lora: every target must match a layer of the model (a target
// without layers adapts nothing, which is surely a mistake), and the rank must fit every adapted
// kernel (r <= its smaller side, or the "low-rank" update is not low-rank). model/lora.ts builds
// the adapters; model/trainable.ts decides what trains.
import { jobLayers } from '../model/expand.ts';
import { layerTargets, targetsOf, type LoraTarget } from '../model/lora-targets.ts';
import { inferLayerShapes } from '../model/shapes.ts';
import { problemAt, type LocatedProblem } from './problems.ts';
import type { LayerSpec, PipelineJob } from './schema.ts';

const LORA_PATH = ['spec', 'training', 'lora'];

/** Which layer kinds each target adapts (for the messages). */
const TARGET_LAYERS: Record<LoraTarget, string> = { attention: 'transformerBlock', mlp: 'transformerBlock', dense: 'dense' };

export function checkLora(job: PipelineJob): LocatedProblem[] {
  const { lora } = job.spec.training;
  if (!lora) return [];
  const layers = jobLayers(job.spec);
  const offered = new Set(layers.flatMap(targetsOf));
  const problems = lora.targets.flatMap((target, index) =>
    offered.has(target)
      ? []
      : [problemAt([...LORA_PATH, 'targets', index], `"${target}" adapts ${TARGET_LAYERS[target]} layers, but spec.model.layers has none; remove "${target}" from the targets${offered.size > 0 ? ` (this model offers: ${[...offered].join(', ')})` : ' (this model has no layer LoRA can adapt: dense or transformerBlock)'}`)],
  );
  const smallest = smallestAdaptedSide(job.spec.model.inputShape, layers, lora);
  if (smallest && lora.rank > smallest.size) {
    problems.push(problemAt([...LORA_PATH, 'rank'], `must be <= ${smallest.size}, the smaller side of the adapted kernel ${smallest.kernel} of layer ${smallest.layer} (${smallest.type}), got ${lora.rank}; lower the rank`));
  }
  return problems;
}

/** The adapted kernel with the smallest side; undefined when shapes cannot be inferred (checkModel reports that). */
function smallestAdaptedSide(inputShape: number[], layers: LayerSpec[], lora: NonNullable<PipelineJob['spec']['training']['lora']>): { size: number; layer: number; type: string; kernel: string } | undefined {
  let outputShapes: number[][];
  try {
    // The vocabulary (known once the data is prepared) sizes no adapted kernel: any stands in for it.
    const sized = layers.map((layer) => (layer.type === 'embedding' || layer.type === 'lmHead' ? { ...layer, vocabSize: layer.vocabSize ?? 2 } : layer));
    outputShapes = inferLayerShapes(inputShape, sized).outputShapes;
  } catch {
    return undefined;
  }
  let smallest: { size: number; layer: number; type: string; kernel: string } | undefined;
  layers.forEach((layer, index) => {
    const inShape = index === 0 ? inputShape : outputShapes[index - 1]!;
    const width = inShape[inShape.length - 1]!;
    for (const target of layerTargets(lora, layer)) {
      // Every transformerBlock kernel has the block's width as one side, and the other is at least that.
      const [size, kernel] = target === 'dense' && layer.type === 'dense' ? [Math.min(width, layer.units), `[${width}, ${layer.units}]`] : [width, `${target} [${width}, ...]`];
      if (!smallest || size < smallest.size) smallest = { size, layer: index, type: layer.type, kernel };
    }
  });
  return smallest;
}
