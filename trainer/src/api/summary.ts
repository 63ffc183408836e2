// The one-line description of a valid job printed by `pipetrain validate`.
import { jobLayers, modelLayerCount } from '../model/expand.ts';
import { inferLayerShapes } from '../model/shapes.ts';
import { hasWeights, layerAdapted, layerTrains } from '../model/trainable.ts';
import { needsVocabulary, resolveVocabulary } from '../model/vocabulary.ts';
import { stageCount } from './resolve.ts';
import type { PipelineJob } from './schema.ts';

/** e.g. `valid PipelineJob mnist-mlp: 9 layers (101,770 parameters) in 4 stages (parameters), 1F1B with 8 micro-batches of 8, adam, 600 steps` */
export function summarizeJob(job: PipelineJob): string {
  const { model, pipeline, data, training } = job.spec;
  const stages = stageCount(pipeline);
  const split = pipeline.partition ? `partition ${pipeline.partition.join('+')}` : pipeline.partitionPolicy;
  const perMicroBatch = data.batchSize / pipeline.microBatches;
  const length = training.steps !== undefined ? plural(training.steps, 'step') : plural(training.epochs ?? 1, 'epoch');
  return [
    `valid ${job.kind} ${job.metadata.name}: ${plural(modelLayerCount(model.layers), 'layer')} (${describeParameters(job)}${describeFrozen(job)}) in ${plural(stages, 'stage')} (${split})`,
    `${pipeline.schedule} with ${plural(pipeline.microBatches, 'micro-batch', 'micro-batches')} of ${perMicroBatch}`,
    training.optimizer.type,
    length,
  ].join(', ');
}

/** Trainable values, a tied matrix counted once; a vocabulary still to come from the data is said so. */
function describeParameters(job: PipelineJob): string {
  const layers = job.spec.model.layers;
  const countWith = (vocabulary: number | undefined) => {
    const { parameterCounts, tiedParameters } = inferLayerShapes(job.spec.model.inputShape, jobLayers({ model: { layers: resolveVocabulary(layers, vocabulary) } }));
    return parameterCounts.reduce((a, b) => a + b, 0) - tiedParameters;
  };
  if (!needsVocabulary(layers)) return `${countWith(undefined).toLocaleString('en-US')} parameters`;
  // The count is linear in the vocabulary size: extrapolate to a vocabulary of 0.
  const withoutVocabulary = 2 * countWith(1) - countWith(2);
  return `${withoutVocabulary.toLocaleString('en-US')} parameters besides those per vocabulary entry`;
}

/** `; 3 frozen` when layers with weights are frozen (docs/freezing.md), `; LoRA rank 4 on 3 layers` with adapters (docs/lora.md), else nothing. */
function describeFrozen(job: PipelineJob): string {
  const trains = layerTrains(job.spec);
  const adapted = layerAdapted(job.spec);
  const frozen = jobLayers(job.spec).filter((layer, index) => hasWeights(layer) && !trains[index] && !adapted[index]).length;
  const adaptedCount = adapted.filter(Boolean).length;
  const lora = job.spec.training.lora && adaptedCount > 0 ? `; LoRA rank ${job.spec.training.lora.rank} on ${plural(adaptedCount, 'layer')}` : '';
  return `${frozen === 0 ? '' : `; ${frozen} frozen`}${lora}`;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
