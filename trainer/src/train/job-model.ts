// Everything a stage (or the single-process reference) builds from the job spec before training.
import { jobLayers } from '../model/expand.ts';
import { buildLayers } from '../model/layers.ts';
import { inferLayerShapes } from '../model/shapes.ts';
import { layerTrains, needsInputGradient, trainableWeights } from '../model/trainable.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import { createOptimizer, type Optimizer } from './optimizer.ts';
import { StageModel } from './stage-model.ts';

export interface StageBuild {
  model: StageModel;
  optimizer: Optimizer;
}

/** Layers [from, to) of the job's (expanded) model as one stage, with its optimizer over the weights that train. */
export function buildStage(spec: PipelineJobSpec, from: number, to: number): StageBuild {
  const { model: modelSpec, training, pipeline } = spec;
  const all = jobLayers(spec);
  const layers = buildLayers(modelSpec.inputShape, all, training.seed, from, to, { ...(training.lora ? { lora: training.lora } : {}) });
  // Frozen weights (LoRA's base ones too) get no gradient and no optimizer slot (so checkpoints hold none for them).
  const trainable = trainableWeights(layers, layerTrains(spec));
  const model = new StageModel(layers, from === 0, to === all.length, modelSpec.loss, 1 / pipeline.microBatches, { trainable, inputGradient: needsInputGradient(spec, from) });
  return { model, optimizer: createOptimizer(training.optimizer, model.trainable) };
}

/** Number of output classes of the model (last axis of its output). */
export function outputClasses(spec: PipelineJobSpec): number {
  const { outputShapes } = inferLayerShapes(spec.model.inputShape, jobLayers(spec));
  const last = outputShapes[outputShapes.length - 1] ?? [1];
  return last[last.length - 1] ?? 1;
}
