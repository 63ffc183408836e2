import type { Command } from 'commander';

export function registerRenderSchedule(program: Command): void {
  program.command('render-schedule').description('Print a pipeline schedule as a step x stage grid (not implemented yet)');
}
