// Builds everything one stage needs to train (model slice, optimizer, program, data access) and
// runs its training loop. Used by the stage process and by in-process tests alike.
import type { TrainingData } from '../data/load.ts';
import { makeBatches, type Batches, type StepPlan } from '../data/step-batches.ts';
import { jobLayers } from '../model/expand.ts';
import { inferLayerShapes } from '../model/shapes.ts';
import { backwardFreeStages } from '../model/trainable.ts';
import { rangesFromSizes, type StageRange } from '../model/partition.ts';
import { buildPrograms } from '../schedule/index.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import type { Link } from '../transport/index.ts';
import type { WeightBytes } from './digest.ts';
import { evaluateStage, evaluationDue } from './evaluation.ts';
import { runStep, type StageRuntime, type StepResult } from './executor.ts';
import { buildStage } from './job-model.ts';
import { learningRateAt } from './lr-schedule.ts';
import { linkNormExchange, normHandshake } from './norm-exchange.ts';
import { StageFrames } from './stage-frames.ts';
import { countsInNorm, tiedGradientBytes, tiedReduction, tiedRole } from './tied-weights.ts';

export interface StageSetup {
  /** The job's spec with the data's vocabulary filled in (loadTrainingData returns it). */
  spec: PipelineJobSpec;
  stage: number;
  /** Layers per stage. */
  partition: number[];
  /** Every stage loads the dataset (it is small next to the model): the step count depends on it. */
  data: TrainingData;
  upstream?: Link;
  downstream?: Link;
  /** How long a receive waits for a due frame, ms (default DEFAULT_RECEIVE_TIMEOUT_MS, stage-frames.ts). */
  receiveTimeoutMs?: number;
}

export interface StageSession {
  spec: PipelineJobSpec;
  runtime: StageRuntime;
  batches: Batches;
  plan: StepPlan;
  range: StageRange;
  weights(): WeightBytes[];
  dispose(): void;
}

export function createStageSession(setup: StageSetup): StageSession {
  const { spec, stage, partition, data, upstream, downstream } = setup;
  const range = rangesFromSizes(partition)[stage]!;
  const { model, optimizer } = buildStage(spec, range.from, range.to);
  const batches = makeBatches(spec, data);
  // Screened from here on: frames that arrived before are checked now (the resume step, early activations).
  const frames = new StageFrames({ spec, partition, stage, plan: batches.plan, evaluation: batches.evaluation, upstream, downstream, receiveTimeoutMs: setup.receiveTimeoutMs }).screenLinks();
  const runtime: StageRuntime = {
    model,
    optimizer,
    program: buildPrograms(spec.pipeline.schedule, partition.length, spec.pipeline.microBatches, backwardFreeStages(spec, rangesFromSizes(partition)))[stage]!,
    upstream,
    downstream,
    input: batches.input,
    targets: batches.targets,
    completionScale: batches.completionScale,
    seed: spec.training.seed,
    clipNorm: spec.training.gradientClipNorm,
    exchangeNorm: linkNormExchange(upstream, downstream, frames),
    normHandshake: normHandshake(spec, partition),
    frames,
    reduceTied: tiedReduction(tiedRole(spec, partition, stage), model.trainable, { upstream, downstream, frames }),
    countsInNorm: countsInNorm(model.trainable),
  };
  return {
    runtime,
    spec,
    batches,
    plan: batches.plan,
    range,
    weights: () => model.weightBytes(),
    dispose: () => {
      optimizer.dispose();
      model.weights.forEach((w) => w.variable.dispose());
    },
  };
}

/** Trains steps [from, to) and reports each finished step (with its validation loss when evaluated). */
export async function trainStage(session: StageSession, onStep: (result: StepResult) => void, from = 0, to = session.plan.totalSteps): Promise<void> {
  const { spec, runtime, batches, plan } = session;
  const { optimizer, learningRateSchedule } = spec.training;
  for (let step = from; step < to; step++) {
    const learningRate = learningRateAt(step, optimizer.learningRate, learningRateSchedule, plan.totalSteps);
    runtime.frames.enterStep(step);
    const result = await runStep(runtime, step, learningRate);
    if (batches.evaluation && evaluationDue(spec, step, plan.totalSteps)) {
      result.valLoss = await evaluateStage(runtime.model, batches.evaluation, spec.model.loss, step, runtime);
    }
    onStep(result);
  }
}

/**
 * Largest frame payload on any link, in bytes (float32), for its maxPayload: a tensor crossing a
 * stage boundary (training and evaluation micro-batches have the same size), or a tied gradient.
 */
export function maxBoundaryBytes(spec: PipelineJobSpec, partition: number[]): number {
  const { outputShapes } = inferLayerShapes(spec.model.inputShape, jobLayers(spec));
  const microBatchSize = spec.data.batchSize / spec.pipeline.microBatches;
  const cuts = rangesFromSizes(partition).slice(0, -1).map((range) => outputShapes[range.to - 1]!);
  const elements = Math.max(1, ...cuts.map((shape) => shape.reduce((a, b) => a * b, 1)));
  return Math.max(elements * microBatchSize * 4, partition.length > 1 ? tiedGradientBytes(spec) : 0);
}
