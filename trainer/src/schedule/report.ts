// A schedule summary for people: the unit-slot grid plus simulated numbers next to the textbook
// formula, as text or as JSON. Pure (no I/O), so the render-schedule command stays a thin shell.
import { formatAction, type ComputeTimetable, type ScheduleKind, type StagePrograms } from './action.ts';
import { buildTimetable, idealBubbleFraction, assertValidPrograms } from './build.ts';
import type { Costs } from './costs.ts';
import { renderGrid } from './grid.ts';
import { lowerToPrograms } from './lower.ts';
import { simulate, type SimulationResult } from './simulate.ts';

export interface ReportRequest {
  readonly kind: ScheduleKind;
  readonly stages: number;
  readonly microBatches: number;
  readonly costs: Costs;
}

export interface ScheduleReport extends ReportRequest {
  readonly timetable: ComputeTimetable;
  readonly programs: StagePrograms;
  readonly simulation: SimulationResult;
  /** (p-1)/(m+p-1): exact for uniform stage costs and free communication. */
  readonly formulaBubbleFraction: number;
}

export function buildReport(request: ReportRequest): ScheduleReport {
  const timetable = buildTimetable(request.kind, request.stages, request.microBatches);
  const programs = lowerToPrograms(timetable);
  assertValidPrograms(programs, request.microBatches);
  const simulation = simulate(programs, request.costs);
  return { ...request, timetable, programs, simulation, formulaBubbleFraction: idealBubbleFraction(request.stages, request.microBatches) };
}

export function formatReport(report: ScheduleReport): string {
  const { stages: p, microBatches: m, simulation: sim } = report;
  return [
    `${report.kind} schedule, ${p} stage${p === 1 ? '' : 's'}, ${m} micro-batch${m === 1 ? '' : 'es'} (unit time slots, '.' = idle):`,
    renderGrid(report.timetable),
    '',
    `simulated with ${describeCosts(report.costs)}: makespan ${round(sim.makespan)}`,
    `bubble per stage: ${sim.bubbleFraction.map(round).join(' ')}`,
    `peak in-flight micro-batches per stage: ${sim.peakInFlight.join(' ')}`,
    `bubble fraction: simulated ${round(sim.overallBubbleFraction)}, formula (p-1)/(m+p-1) = ${p - 1}/${m + p - 1} = ${round(report.formulaBubbleFraction)}`,
  ].join('\n');
}

/** Plain JSON; programs use the compact action text ('1RECV_F0'), which parseAction reads back. */
export function reportToJson(report: ScheduleReport): unknown {
  const { makespan, busy, idle, bubbleFraction, overallBubbleFraction, peakInFlight } = report.simulation;
  return {
    schedule: report.kind,
    stages: report.stages,
    microBatches: report.microBatches,
    costs: report.costs,
    programs: report.programs.map((program) => program.map(formatAction)),
    simulation: { makespan, busy, idle, bubbleFraction, overallBubbleFraction, peakInFlight },
    formulaBubbleFraction: report.formulaBubbleFraction,
  };
}

/** Indented JSON with each list of numbers or actions on one line, so a program reads as a row. */
export function formatReportJson(report: ScheduleReport): string {
  const text = JSON.stringify(reportToJson(report), null, 2);
  // Arrays without nested arrays or objects; their items (numbers, action texts) hold no whitespace.
  return text.replace(/\[[^[\]{}]*\]/g, (list) => list.replace(/\s+/g, ' ').replace('[ ', '[').replace(' ]', ']'));
}

function describeCosts(costs: Costs): string {
  const list = (value: number | readonly number[]) => (typeof value === 'number' ? String(value) : `[${value.join(', ')}]`);
  const parts = [`forward ${list(costs.forward)}`, `backward ${list(costs.backward)}`, `send ${costs.send ?? 0}`];
  if (costs.optimizer !== undefined) parts.push(`optimizer ${list(costs.optimizer)}`);
  return parts.join(', ');
}

/** Four decimals are enough to compare with the formula by eye; avoids 0.30000000000000004 noise. */
function round(x: number): string {
  return String(Math.round(x * 10_000) / 10_000);
}
