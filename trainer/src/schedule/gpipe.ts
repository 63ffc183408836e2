// GPipe: every stage runs all forwards, then all backwards. Backwards run in ascending micro-batch
// order (not the reverse order of the paper) so that gradients accumulate in the same order as in a
// single process, which keeps pipelined training bit-exact.
import { action, type Action, type ComputeTimetable } from './action.ts';
import { checkShape } from './shape.ts';
import { placeInSlots } from './place.ts';

/** Compute order of one stage: F0..F(m-1), B0..B(m-1). */
export function gpipeOrder(stage: number, microBatches: number): Action[] {
  const ids = Array.from({ length: microBatches }, (_, mb) => mb);
  return [...ids.map((mb) => action(stage, 'F', mb)), ...ids.map((mb) => action(stage, 'B', mb))];
}

export function gpipe(stages: number, microBatches: number): ComputeTimetable {
  checkShape(stages, microBatches);
  return placeInSlots(Array.from({ length: stages }, (_, s) => gpipeOrder(s, microBatches)));
}
