// 1F1B (PipeDream-Flush): a stage runs a few warm-up forwards, then alternates one forward and one
// backward, then drains the remaining backwards. Only about p - s micro-batches are in flight on stage s
// (GPipe holds all m). Backwards are in ascending micro-batch order, as in GPipe, for exact gradients.
import { action, type Action, type ComputeTimetable } from './action.ts';
import { checkShape } from './shape.ts';
import { placeInSlots } from './place.ts';

/** Warm-up forwards of a stage: enough to fill the pipeline below it, capped at m so m < p works. */
export function warmupForwards(stage: number, stages: number, microBatches: number): number {
  return Math.min(stages - stage - 1, microBatches);
}

/** Compute order of one stage: warm-up F's, then (F, B) pairs, then the cool-down B's. */
export function oneFOneBOrder(stage: number, stages: number, microBatches: number): Action[] {
  const warmup = warmupForwards(stage, stages, microBatches);
  const order: Action[] = [];
  for (let mb = 0; mb < warmup; mb++) order.push(action(stage, 'F', mb));
  for (let k = 0; k < microBatches - warmup; k++) order.push(action(stage, 'F', warmup + k), action(stage, 'B', k));
  for (let mb = microBatches - warmup; mb < microBatches; mb++) order.push(action(stage, 'B', mb));
  return order;
}

export function oneFOneB(stages: number, microBatches: number): ComputeTimetable {
  checkShape(stages, microBatches);
  return placeInSlots(Array.from({ length: stages }, (_, s) => oneFOneBOrder(s, stages, microBatches)));
}
