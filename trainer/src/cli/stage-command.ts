// `pipetrain stage`: runs one pipeline stage; what the operator's stage pods execute.
import type { Command } from 'commander';
import { CONFIG_ENV, StageExit, TOKEN_ENV } from '../contract/index.ts';

export function registerStage(program: Command): void {
  program
    .command('stage')
    .description('Run one pipeline stage (what stage pods run; `pipetrain train` starts these for you)')
    .addHelpText('after', `
Configuration comes from the environment:
  ${CONFIG_ENV}  JSON: { job, stage, partition, listenHost, listenPort, downstreamUrl, metricsHost, metricsPort, baseDir }
  ${TOKEN_ENV}         the job's secret token; links without it are refused

Exit status: ${StageExit.Succeeded} succeeded, ${StageExit.Failed} failed (retry may help), ${StageExit.InvalidJob} invalid job (do not retry),
${StageExit.PeerLost} a neighbour stage was lost, ${StageExit.Terminated} terminated by a signal.`)
    .option('--prepare-data', 'only prepare spec.data.dataset from its prepare settings (a no-op when up to date), then exit: what the operator runs once before the stage pods start')
    .action(async (options: { prepareData?: boolean }) => {
      if (options.prepareData) {
        const { prepareJobData } = await import('../stage/prepare-job-data.ts');
        process.exit(await prepareJobData());
      }
      const { runStageProcess } = await import('../stage/run-stage.ts');
      runStageProcess();
    });
}
