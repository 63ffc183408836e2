// Entry point of the `pipetrain` command: one subcommand per file, registered here.
import { Command } from 'commander';
import { registerTrain } from './train-command.ts';
import { registerValidate } from './validate-command.ts';
import { registerRenderSchedule } from './render-schedule-command.ts';
import { registerStage } from './stage-command.ts';
import { registerCheckpoints } from './checkpoints-command.ts';
import { registerOperator } from './operator-command.ts';

export function buildProgram(): Command {
  const program = new Command('pipetrain')
    .description('Train TensorFlow.js models with pipeline parallelism, locally or on Kubernetes.')
    .version('0.1.0')
    .showHelpAfterError('(add --help for usage)');
  registerTrain(program);
  registerValidate(program);
  registerRenderSchedule(program);
  registerCheckpoints(program);
  registerStage(program);
  registerOperator(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
