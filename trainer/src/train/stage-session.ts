// Builds everything one stage needs to train (model slice, optimizer, program, data access) and
// runs its training loop. Used by the stage process and by in-process tests alike.
import { inputTensor, targetTensor } from '../data/batches.ts';
import type { SplitDataset } from '../data/dataset.ts';
import { makeDataPlan, type DataPlan } from '../data/plan.ts';
import { jobLayers } from '../model/expand.ts';
import { inferLayerShapes } from '../model/shapes.ts';
import { rangesFromSizes, type StageRange } from '../model/partition.ts';
import { buildPrograms } from '../schedule/index.ts';
import type { PipelineJobSpec } from '../spec/schema.ts';
import type { Link } from '../transport/index.ts';
import type { WeightBytes } from './digest.ts';
import { runStep, type StageRuntime, type StepResult } from './executor.ts';
import { buildStage, outputClasses } from './job-model.ts';
import { learningRateAt } from './lr-schedule.ts';
import { linkNormExchange } from './norm-exchange.ts';

export interface StageSetup {
  spec: PipelineJobSpec;
  stage: number;
  /** Layers per stage. */
  partition: number[];
  /** Every stage loads the dataset (it is small next to the model): the step count depends on it. */
  data: SplitDataset;
  upstream?: Link;
  downstream?: Link;
}

export interface StageSession {
  spec: PipelineJobSpec;
  runtime: StageRuntime;
  plan: DataPlan;
  range: StageRange;
  weights(): WeightBytes[];
  dispose(): void;
}

export function createStageSession(setup: StageSetup): StageSession {
  const { spec, stage, partition, data, upstream, downstream } = setup;
  const range = rangesFromSizes(partition)[stage]!;
  const { model, optimizer } = buildStage(spec, range.from, range.to);
  const plan = makeDataPlan(spec, data.train.count);
  const classes = outputClasses(spec);
  const runtime: StageRuntime = {
    model,
    optimizer,
    program: buildPrograms(spec.pipeline.schedule, partition.length, spec.pipeline.microBatches)[stage]!,
    upstream,
    downstream,
    input: (step, mb) => inputTensor(data.train, plan.microBatchIndices(step, mb)),
    targets: (step, mb) => targetTensor(data.train, plan.microBatchIndices(step, mb), spec.model.loss, classes),
    seed: spec.training.seed,
    clipNorm: spec.training.gradientClipNorm,
    exchangeNorm: linkNormExchange(upstream, downstream),
  };
  return {
    runtime,
    spec,
    plan,
    range,
    weights: () => model.weightBytes(),
    dispose: () => {
      optimizer.dispose();
      model.weights.forEach((w) => w.variable.dispose());
    },
  };
}

/** Trains steps [from, to) and reports each finished step. */
export async function trainStage(session: StageSession, onStep: (result: StepResult) => void, from = 0, to = session.plan.totalSteps): Promise<void> {
  const { optimizer, learningRateSchedule } = session.spec.training;
  for (let step = from; step < to; step++) {
    const learningRate = learningRateAt(step, optimizer.learningRate, learningRateSchedule, session.plan.totalSteps);
    onStep(await runStep(session.runtime, step, learningRate));
  }
}

/** Largest tensor crossing any stage boundary, in bytes (float32), for the link's maxPayload. */
export function maxBoundaryBytes(spec: PipelineJobSpec, partition: number[]): number {
  const { outputShapes } = inferLayerShapes(spec.model.inputShape, jobLayers(spec));
  const microBatchSize = spec.data.batchSize / spec.pipeline.microBatches;
  const cuts = rangesFromSizes(partition).slice(0, -1).map((range) => outputShapes[range.to - 1]!);
  const elements = Math.max(1, ...cuts.map((shape) => shape.reduce((a, b) => a * b, 1)));
  return elements * microBatchSize * 4;
}
