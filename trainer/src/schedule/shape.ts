// Argument checks shared by the builders: a schedule needs whole, positive stage and micro-batch counts.
import { ScheduleError } from './errors.ts';

export function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ScheduleError(`${name} must be an integer >= 1, got ${value}.`);
  }
}

export function checkShape(stages: number, microBatches: number): void {
  checkPositiveInteger('stages', stages);
  checkPositiveInteger('microBatches', microBatches);
}
