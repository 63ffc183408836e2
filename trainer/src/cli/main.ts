// Entry point of the `pipetrain` command: one subcommand per file, registered here.
import { Command } from 'commander';
import { registerTrain } from './train-command.ts';
import { registerValidate } from './validate-command.ts';
import { registerRenderSchedule } from './render-schedule-command.ts';
import { registerStage } from './stage-command.ts';
import { registerCheckpoints } from './checkpoints-command.ts';
import { registerGenerate } from './generate-command.ts';
import { registerPrepare } from './prepare-command.ts';
import { registerExport } from './export-command.ts';
import { registerPredict } from './predict-command.ts';
import { PIPETRAIN_VERSION } from '../version.ts';

/** Adds one subcommand to the program (the operator's CLI adds `operator`). */
export type RegisterCommand = (program: Command) => void;

export function buildProgram(extraCommands: readonly RegisterCommand[] = []): Command {
  const program = new Command('pipetrain')
    .description('Train TensorFlow.js models with pipeline parallelism, locally or on Kubernetes.')
    .version(PIPETRAIN_VERSION)
    .showHelpAfterError('(add --help for usage)');
  registerTrain(program);
  registerValidate(program);
  registerRenderSchedule(program);
  registerCheckpoints(program);
  registerGenerate(program);
  registerPrepare(program);
  registerExport(program);
  registerPredict(program);
  registerStage(program);
  for (const register of extraCommands) register(program);
  return program;
}

export async function main(argv: string[], extraCommands: readonly RegisterCommand[] = []): Promise<void> {
  await buildProgram(extraCommands).parseAsync(argv);
}
