import type { Command } from 'commander';

export function registerValidate(program: Command): void {
  program.command('validate <file>').description('Check a PipelineJob file (not implemented yet)');
}
