// A stage's start from spec.model.from: each of its weights whose layer the source has takes the
// source's value; the others keep their seeded initial value. The plan is made over the whole
// model from the layer lists alone, so every partition assigns the same values to the same
// weights, and a stage reads only the source layers its own weights need (a tied lmHead's copy
// needs the embedding's). Optimizer state comes along only when asked and the layers are identical.
import * as tf from '@tensorflow/tfjs-core';
import type { PipelineJobSpec } from '../api/schema.ts';
import type { NamedVariable } from '../model/layers.ts';
import type { Optimizer } from '../train/optimizer.ts';
import { isIdentical, matchLayers, matchWeights, sourceLayersFor, type MatchPlan } from './match-layers.ts';
import { ModelSourceError, type WeightSource } from './weight-source.ts';

export interface StartTarget {
  spec: PipelineJobSpec;
  /** This stage's weights, tied copies included. */
  weights: NamedVariable[];
  optimizer: Optimizer;
}

/** Sets the stage's weights (and, when asked, optimizer state) from the source; returns the plan (its notes are for the log). */
export async function startFromSource(target: StartTarget, source: WeightSource): Promise<MatchPlan> {
  const { spec } = target;
  // LoRA adapters are this job's own: they start seeded (B = 0) on the imported base.
  const weights = target.weights.filter((w) => !w.adapter);
  const plan = matchLayers(spec.model.layers, source.layers, source.where);
  const withOptimizer = spec.model.from?.checkpoint?.optimizerState === true;
  if (withOptimizer) checkOptimizerCarries(plan, spec, source);
  const names = weights.map((w) => w.name);
  const read = await source.read(sourceLayersFor(plan, source.layers, names), { slots: withOptimizer });
  const values = matchWeights(plan, spec.model.layers, source.layers, weights.map((w) => ({ name: w.name, shape: w.variable.shape })), read.weights, source.where);
  for (const w of weights) {
    const record = values.get(w.name);
    if (record) tf.tidy(() => w.variable.assign(tf.tensor(record.data, w.variable.shape)));
  }
  if (withOptimizer) {
    const slots = new Map([...read.slots].map(([name, record]) => [name, record.data]));
    try {
      target.optimizer.restore(slots, source.optimizer!.scalars);
    } catch (error) {
      throw new ModelSourceError(`spec.model.from.checkpoint.optimizerState: ${source.where} lacks optimizer state this job needs (${(error as Error).message}); set optimizerState: false`);
    }
  }
  return plan;
}

function checkOptimizerCarries(plan: MatchPlan, spec: PipelineJobSpec, source: WeightSource): void {
  const why = !isIdentical(plan)
    ? 'the layers are not identical to the source\'s'
    : source.optimizer?.type !== spec.training.optimizer.type
      ? `the source was trained with ${source.optimizer?.type ?? 'no optimizer'}, this job uses ${spec.training.optimizer.type}`
      : undefined;
  if (why) throw new ModelSourceError(`spec.model.from.checkpoint.optimizerState: cannot carry the optimizer state over: ${why}; set optimizerState: false to start the optimizer fresh`);
}
