// The one-line description of a valid job printed by `pipetrain validate`.
import { inferLayerShapes } from '../model/shapes.ts';
import { stageCount } from './resolve.ts';
import type { PipelineJob } from './schema.ts';

/** e.g. `valid PipelineJob mnist-mlp: 9 layers (101,770 parameters) in 4 stages (parameters), 1F1B with 8 micro-batches of 8, adam, 600 steps` */
export function summarizeJob(job: PipelineJob): string {
  const { model, pipeline, data, training } = job.spec;
  const parameters = inferLayerShapes(model.inputShape, model.layers).parameterCounts.reduce((a, b) => a + b, 0);
  const stages = stageCount(pipeline);
  const split = pipeline.partition ? `partition ${pipeline.partition.join('+')}` : pipeline.partitionPolicy;
  const perMicroBatch = data.batchSize / pipeline.microBatches;
  const length = training.steps !== undefined ? plural(training.steps, 'step') : plural(training.epochs ?? 1, 'epoch');
  return [
    `valid ${job.kind} ${job.metadata.name}: ${plural(model.layers.length, 'layer')} (${parameters.toLocaleString('en-US')} parameters) in ${plural(stages, 'stage')} (${split})`,
    `${pipeline.schedule} with ${plural(pipeline.microBatches, 'micro-batch', 'micro-batches')} of ${perMicroBatch}`,
    training.optimizer.type,
    length,
  ].join(', ');
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
