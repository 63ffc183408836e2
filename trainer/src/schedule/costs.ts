// Per-action durations for the simulator: a single number for all stages or one per stage.
import type { Action } from './action.ts';
import { ScheduleError } from './errors.ts';

export interface Costs {
  forward: number | readonly number[];
  backward: number | readonly number[];
  /** Latency of a message from SEND to matching RECV availability; default 0. */
  send?: number;
  /** Duration of the optimizer step; default 0. */
  optimizer?: number | readonly number[];
}

/** Costs resolved per stage, checked once up front so the simulation loop needs no checks. */
export interface StageCosts {
  readonly forward: readonly number[];
  readonly backward: readonly number[];
  readonly optimizer: readonly number[];
  readonly send: number;
}

export const UNIT_COSTS: Costs = { forward: 1, backward: 1, send: 0, optimizer: 0 };

export function resolveCosts(costs: Costs, stages: number): StageCosts {
  return {
    forward: perStage('forward', costs.forward, stages),
    backward: perStage('backward', costs.backward, stages),
    optimizer: perStage('optimizer', costs.optimizer ?? 0, stages),
    send: checkDuration('costs.send', costs.send ?? 0),
  };
}

/** Compute time of an action on its stage; communication itself takes no compute time. */
export function durationOf(a: Action, stage: number, costs: StageCosts): number {
  const table = a.kind === 'F' ? costs.forward : a.kind === 'B' ? costs.backward : a.kind === 'OPT' ? costs.optimizer : null;
  return table?.[stage] ?? 0;
}

function perStage(name: string, value: number | readonly number[], stages: number): number[] {
  if (typeof value === 'number') return Array<number>(stages).fill(checkDuration(`costs.${name}`, value));
  if (value.length !== stages) {
    throw new ScheduleError(`costs.${name} has ${value.length} entries but there are ${stages} stages.`);
  }
  return value.map((v, s) => checkDuration(`costs.${name}[${s}]`, v));
}

function checkDuration(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new ScheduleError(`${name} must be a finite number >= 0, got ${value}.`);
  return value;
}
