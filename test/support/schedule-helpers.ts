// Shared helpers for the tests of this module (not exported from index.ts).
import { formatAction, type Action, type ComputeTimetable } from '../../trainer/src/schedule/action.ts';

/** The compute actions of one stage in slot order, as compact text. */
export function computeOrder(timetable: ComputeTimetable, stage: number): string[] {
  return (timetable[stage] ?? []).filter((a): a is Action => a !== null).map(formatAction);
}

/** Micro-batch indices of one kind on one stage, in execution order. */
export function microBatchOrder(timetable: ComputeTimetable, stage: number, kind: 'F' | 'B'): Array<number | null> {
  return (timetable[stage] ?? []).filter((a) => a?.kind === kind).map((a) => a?.microBatch ?? null);
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Every (stages, microBatches) pair in the given ranges, including m < p and p = 1. */
export function shapes(maxStages: number, maxMicroBatches: number): Array<[number, number]> {
  return range(maxStages).flatMap((s) => range(maxMicroBatches).map((m): [number, number] => [s + 1, m + 1]));
}
