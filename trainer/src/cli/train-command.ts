// `pipetrain train FILE`: trains a PipelineJob on this machine, one process per stage.
import { dirname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { runLocal, type RunSummary } from '../runner/local-runner.ts';
import { createProgressReporter, formatDuration, type LogFormat } from '../runner/progress.ts';
import { formatProblems, loadPipelineJobFile } from '../spec/load.ts';

interface TrainOptions {
  set: string[];
  json: boolean;
  logFormat: LogFormat;
  verbose: boolean;
}

export function registerTrain(program: Command): void {
  program
    .command('train <file>')
    .description('Train a PipelineJob on this machine: one process per pipeline stage, connected over loopback WebSockets')
    .option('--set <path=value>', 'override a spec field, e.g. spec.pipeline.stages=2 (repeatable)', collect, [])
    .option('--json', 'print a one-line JSON summary on stdout at the end', false)
    .addOption(new Option('--log-format <format>', 'progress and log format').choices(['text', 'json']).default('text'))
    .option('-v, --verbose', "show the stages' informational log lines", false)
    .addHelpText('after', `
Examples:
  pipetrain train examples/mnist-mlp.yaml
  pipetrain train examples/mnist-mlp.yaml --set spec.pipeline.stages=2 --set spec.training.steps=50
  pipetrain train job.yaml --json --log-format json

Exit status: 0 when training succeeded, 1 when the job file is invalid or a stage failed.`)
    .action(async (file: string, options: TrainOptions) => {
      process.exitCode = await train(file, options);
    });
}

async function train(file: string, options: TrainOptions): Promise<number> {
  const loaded = await loadPipelineJobFile(file, options.set);
  if (!loaded.ok) {
    console.error(formatProblems(loaded.problems, file));
    console.error(`${file}: ${loaded.problems.length} problem(s); nothing was run`);
    return 1;
  }
  const reporter = createProgressReporter({ format: options.logFormat, everySteps: loaded.job.spec.training.logEverySteps });
  const summary = await runLocal({ job: loaded.job, baseDir: dirname(resolve(file)), reporter, verbose: options.verbose });
  if (options.json) console.log(JSON.stringify(jsonSummary(summary)));
  if (summary.status === 'Succeeded') {
    reporter.info(describeSuccess(summary));
    return 0;
  }
  console.error(`pipetrain: training failed after ${summary.steps} step(s): ${summary.error}`);
  return 1;
}

function jsonSummary(s: RunSummary) {
  return {
    status: s.status, steps: s.steps, loss: s.loss, valAccuracy: s.valAccuracy, valLoss: s.valLoss,
    samplesPerSecond: s.samplesPerSecond, weightsSha256: s.weightsSha256, stages: s.stages, partition: s.partition,
    backend: s.backend, durationSeconds: s.durationSeconds, ...(s.error ? { error: s.error } : {}),
  };
}

function describeSuccess(s: RunSummary): string {
  const accuracy = s.valAccuracy === undefined ? '' : `, validation accuracy ${(s.valAccuracy * 100).toFixed(2)}%`;
  return `Succeeded: ${s.steps} steps in ${formatDuration(s.durationSeconds)}, loss ${s.loss?.toFixed(4) ?? '-'}${accuracy}, ` +
    `${Math.round(s.samplesPerSecond)} samples/s; weights sha256 ${s.weightsSha256}`;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
