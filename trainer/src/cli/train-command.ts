// `pipetrain train FILE`: trains a PipelineJob on this machine, one process per stage.
import { dirname, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { startMetricsServer } from '../metrics/index.ts';
import { prepareFreshStart } from '../runner/fresh-start.ts';
import { createSupervisorMetrics } from '../runner/supervisor-metrics.ts';
import type { RunSummary } from '../runner/local-runner.ts';
import { createProgressReporter, formatDuration, type LogFormat } from '../runner/progress-output.ts';
import { formatProblems, loadPipelineJobFile } from '../api/load.ts';
import { checkBackendAvailable } from '../tf/backend-availability.ts';

interface TrainOptions {
  set: string[];
  json: boolean;
  logFormat: LogFormat;
  verbose: boolean;
  fresh: boolean;
  overwrite: boolean;
  sampleTokens: number;
  metricsPort?: number;
}

export function registerTrain(program: Command): void {
  program
    .command('train <file>')
    .description('Train a PipelineJob on this machine: one process per pipeline stage, connected over loopback WebSockets')
    .option('--set <path=value>', 'override a spec field, e.g. spec.pipeline.stages=2 (repeatable)', collect, [])
    .option('--json', 'print a one-line JSON summary on stdout at the end', false)
    .addOption(new Option('--log-format <format>', 'progress and log format').choices(['text', 'json']).default('text'))
    .option('-v, --verbose', "show the stages' informational log lines", false)
    .option('--fresh', 'start over instead of resuming from the newest checkpoint in spec.checkpoint.path', false)
    .option('--overwrite', 'with --fresh: delete the existing checkpoints (refused without it)', false)
    .option('--sample-tokens <n>', 'language models: tokens of text sampled from the final weights and printed with the summary (0: none)', parseCount, 200)
    .option('--metrics-port <port>', "serve the supervisor's metrics (restarts, recovery) on 127.0.0.1:<port>/metrics", parsePort)
    .addHelpText('after', `
Examples:
  pipetrain train examples/mnist-mlp.yaml
  pipetrain train examples/mnist-mlp.yaml --set spec.pipeline.stages=2 --set spec.training.steps=50
  pipetrain train job.yaml --json --log-format json

With spec.checkpoint.path set, a run resumes from the newest committed checkpoint there, and a
failed stage makes every stage restart from it (up to spec.failurePolicy.maxRestarts times).

Exit status: 0 when training succeeded, 1 when the job file is invalid or training failed,
130 when interrupted (every stage process is stopped first).`)
    .action(async (file: string, options: TrainOptions) => {
      process.exitCode = await train(file, options);
    });
}

async function train(file: string, options: TrainOptions): Promise<number> {
  // Loaded here, not at start-up: reading model files loads TensorFlow.js, which `pipetrain operator` never needs.
  const { modelSourceHooks } = await import('../import/check-source.ts');
  const loaded = await loadPipelineJobFile(file, options.set, modelSourceHooks(file));
  const backend = loaded.ok ? checkBackendAvailable(loaded.job.spec.training.backend) : { problems: [], warnings: [] };
  const problems = loaded.ok ? backend.problems : loaded.problems;
  if (problems.length > 0) {
    console.error(formatProblems(problems, file));
    console.error(`${file}: ${problems.length} problem(s); nothing was run`);
    return 1;
  }
  if (!loaded.ok) return 1; // unreachable: a failed load has problems
  for (const warning of backend.warnings) console.error(`warning: ${warning}`);
  const { job } = loaded;
  const baseDir = dirname(resolve(file));
  const reporter = createProgressReporter({ format: options.logFormat, everySteps: job.spec.training.logEverySteps });
  if (options.fresh && job.spec.checkpoint) {
    try {
      const removed = await prepareFreshStart(resolve(baseDir, job.spec.checkpoint.path), options.overwrite);
      if (removed > 0) reporter.info(`Deleted ${removed} checkpoint folder(s) for a fresh start`);
    } catch (error) {
      console.error(`pipetrain: ${(error as Error).message}`);
      return 1;
    }
  }
  const metrics = createSupervisorMetrics(job.metadata.name);
  const metricsServer = options.metricsPort === undefined ? undefined
    : await startMetricsServer({ port: options.metricsPort, registry: metrics.registry, status: () => ({ job: job.metadata.name }) });
  // Loaded here, not at the top: it brings TensorFlow.js, which `pipetrain operator` must not pay for.
  const { runLocal } = await import('../runner/local-runner.ts');
  const summary = await runLocal({ job, baseDir, reporter, verbose: options.verbose, metrics, sampleTokens: options.sampleTokens });
  await metricsServer?.close();
  if (options.json) console.log(JSON.stringify(jsonSummary(summary)));
  if (summary.status === 'Succeeded') {
    reporter.info(describeSuccess(summary));
    return 0;
  }
  console.error(`pipetrain: training failed after ${summary.steps} step(s): ${summary.error}`);
  return summary.interrupted ? 130 : 1;
}

function jsonSummary(s: RunSummary) {
  return {
    status: s.status, steps: s.steps, loss: s.loss, valAccuracy: s.valAccuracy, valLoss: s.valLoss, perplexity: s.perplexity,
    samplesPerSecond: s.samplesPerSecond, tokensPerSecond: s.tokensPerSecond, sample: s.sample, weightsSha256: s.weightsSha256, stages: s.stages, partition: s.partition,
    backend: s.backend, durationSeconds: s.durationSeconds, restarts: s.restarts, lostSteps: s.lostSteps, resumedFrom: s.resumedFrom,
    ...(s.error ? { error: s.error } : {}),
  };
}

function describeSuccess(s: RunSummary): string {
  const accuracy = s.valAccuracy === undefined ? '' : `, validation accuracy ${(s.valAccuracy * 100).toFixed(2)}%`;
  const validation = s.valLoss === undefined || s.valAccuracy !== undefined ? '' : `, validation loss ${s.valLoss.toFixed(4)}${s.perplexity === undefined ? '' : ` (perplexity ${s.perplexity.toFixed(2)})`}`;
  const restarts = s.restarts === 0 ? '' : `, ${s.restarts} restart(s), ${s.lostSteps} step(s) recomputed`;
  const throughput = s.tokensPerSecond === undefined ? `${Math.round(s.samplesPerSecond)} samples/s` : `${Math.round(s.tokensPerSecond)} tokens/s`;
  const sample = s.sample === undefined ? '' : `\nSample:\n${s.sample}`;
  return `Succeeded: ${s.steps} steps in ${formatDuration(s.durationSeconds)}, loss ${s.loss?.toFixed(4) ?? '-'}${accuracy}${validation}, ` +
    `${throughput}${restarts}; weights sha256 ${s.weightsSha256}${sample}`;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected an integer >= 0');
  return n;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('expected a port number, 0 to 65535');
  return port;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
