// Entry points that pick a schedule by name and run the whole pipeline of passes:
// build the timetable, lower it to programs, validate them.
import { SCHEDULE_KINDS, type ComputeTimetable, type ScheduleKind, type StagePrograms } from './action.ts';
import { ScheduleError } from './errors.ts';
import { dropFrozenBackward } from './frozen.ts';
import { gpipe } from './gpipe.ts';
import { renderGrid } from './grid.ts';
import { lowerToPrograms } from './lower.ts';
import { oneFOneB } from './one-f-one-b.ts';
import { validatePrograms } from './validate.ts';

const BUILDERS: Record<ScheduleKind, (stages: number, microBatches: number) => ComputeTimetable> = {
  GPipe: gpipe,
  '1F1B': oneFOneB,
};

export function buildTimetable(kind: ScheduleKind, stages: number, microBatches: number): ComputeTimetable {
  // Checked here too because callers may pass a kind read from JSON or the command line.
  const builder = (BUILDERS as Partial<Record<string, (typeof BUILDERS)[ScheduleKind]>>)[kind];
  if (builder === undefined) throw new ScheduleError(`Unknown schedule ${JSON.stringify(kind)}; expected one of ${SCHEDULE_KINDS.join(', ')}.`);
  return builder(stages, microBatches);
}

/**
 * Build + lower + validate; throws ScheduleError with the grid on failure. The first
 * `backwardFree` stages have nothing to train and run no backward (frozen.ts).
 */
export function buildPrograms(kind: ScheduleKind, stages: number, microBatches: number, backwardFree = 0): StagePrograms {
  const programs = dropFrozenBackward(lowerToPrograms(buildTimetable(kind, stages, microBatches)), backwardFree);
  assertValidPrograms(programs, microBatches, backwardFree);
  return programs;
}

/** Throws ScheduleError listing every problem, with the program grid marking the first one. */
export function assertValidPrograms(programs: StagePrograms, microBatches: number, backwardFree = 0): void {
  const result = validatePrograms(programs, microBatches, backwardFree);
  if (result.ok) return;
  const first = result.issues.find((i) => i.stage !== null && i.index !== null);
  const mark = first?.stage != null && first.index !== null ? { stage: first.stage, slot: first.index } : undefined;
  throw new ScheduleError(`Invalid stage programs:\n  ${result.errors.join('\n  ')}`, renderGrid(programs, mark));
}

/** Bubble fraction of GPipe and 1F1B with uniform costs and free communication: (p-1)/(m+p-1). */
export function idealBubbleFraction(stages: number, microBatches: number): number {
  return (stages - 1) / (microBatches + stages - 1);
}
