import type { Command } from 'commander';

export function registerTrain(program: Command): void {
  program.command('train <file>').description('Train a PipelineJob locally, one process per stage (not implemented yet)');
}
