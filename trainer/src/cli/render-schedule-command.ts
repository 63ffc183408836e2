// `pipetrain render-schedule`: print a pipeline schedule as a step x stage grid with its simulated
// bubble, to see what GPipe or 1F1B will do before training with it. The work is in schedule/report.ts.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { SCHEDULE_KINDS, type ScheduleKind } from '../schedule/index.ts';
import { buildReport, formatReport, formatReportJson } from '../schedule/report.ts';

interface RenderScheduleOptions {
  stages: number;
  microBatches: number;
  schedule: ScheduleKind;
  forwardCost: number;
  backwardCost: number;
  sendCost: number;
  json?: boolean;
}

const HELP_AFTER = `
The grid shows compute only, in unit time slots (F and B one slot each; '.' = idle):
rankN is stage N, "2F0" is the forward of micro-batch 0 on stage 2, "1B3" a backward.
Backwards always run in ascending micro-batch order, so gradients accumulate in the
same order as in a single process.

The simulation replays the lowered programs (with sends, receives and the optimizer
step) using the given costs. With equal costs on all stages and --send-cost 0 its
bubble fraction equals (p-1)/(m+p-1) for both schedules; 1F1B keeps fewer
micro-batches in flight (less activation memory).

Examples:
  $ pipetrain render-schedule --stages 4 --micro-batches 8 --schedule 1F1B
  $ pipetrain render-schedule -p 3 -m 4 --schedule GPipe --backward-cost 2
  $ pipetrain render-schedule -p 2 -m 2 --json`;

/** Registers the command; `write` receives the output (stdout by default, a sink in tests). */
export function registerRenderSchedule(program: Command, write: (text: string) => void = (text) => process.stdout.write(text)): void {
  program
    .command('render-schedule')
    .description('Print a pipeline schedule as a step x stage grid with its simulated bubble fraction')
    .addOption(new Option('-p, --stages <count>', 'number of pipeline stages (integer >= 1)').argParser(parseCount).makeOptionMandatory())
    .addOption(new Option('-m, --micro-batches <count>', 'micro-batches per training step (integer >= 1)').argParser(parseCount).makeOptionMandatory())
    .addOption(new Option('-s, --schedule <name>', `schedule: ${SCHEDULE_KINDS.join(' or ')} (any case)`).argParser(parseSchedule).default('1F1B'))
    .addOption(new Option('--forward-cost <time>', 'duration of one forward in the simulation (number >= 0)').argParser(parseCost).default(1))
    .addOption(new Option('--backward-cost <time>', 'duration of one backward in the simulation (number >= 0)').argParser(parseCost).default(1))
    .addOption(new Option('--send-cost <time>', 'latency from a send until the neighbour can receive it (number >= 0)').argParser(parseCost).default(0))
    .option('--json', 'print the stage programs (compact actions such as "1RECV_F0") and the simulation as JSON')
    .addHelpText('after', HELP_AFTER)
    .action((options: RenderScheduleOptions) => write(`${renderSchedule(options)}\n`));
}

function renderSchedule(options: RenderScheduleOptions): string {
  const report = buildReport({
    kind: options.schedule,
    stages: options.stages,
    microBatches: options.microBatches,
    costs: { forward: options.forwardCost, backward: options.backwardCost, send: options.sendCost },
  });
  return options.json === true ? formatReportJson(report) : formatReport(report);
}

// Commander prefixes these messages with the option and the value, e.g.
// "error: option '-p, --stages <count>' argument '0' is invalid. Expected an integer >= 1."

function parseCount(value: string): number {
  const count = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(count) || count < 1) throw new InvalidArgumentError('Expected an integer >= 1.');
  return count;
}

function parseCost(value: string): number {
  const cost = Number(value);
  if (value.trim() === '' || !Number.isFinite(cost) || cost < 0) throw new InvalidArgumentError('Expected a number >= 0.');
  return cost;
}

function parseSchedule(value: string): ScheduleKind {
  const kind = SCHEDULE_KINDS.find((k) => k.toLowerCase() === value.trim().toLowerCase());
  if (kind === undefined) throw new InvalidArgumentError(`Expected one of ${SCHEDULE_KINDS.join(', ')}.`);
  return kind;
}
