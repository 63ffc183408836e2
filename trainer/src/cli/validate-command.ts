// `pipetrain validate FILE [--set PATH=VALUE ...]`: prints every problem of a job file (exit status 1)
// or a one-line summary of a valid one (exit status 0).
import type { Command } from 'commander';
import { formatProblems, loadPipelineJobFile } from '../api/load.ts';
import { summarizeJob } from '../api/summary.ts';
import { checkBackendAvailable } from '../tf/backend-availability.ts';

export function registerValidate(program: Command): void {
  program
    .command('validate <file>')
    .description('Check a PipelineJob file and print every problem, or a one-line summary when it is valid')
    .option('--set <path=value>', 'override a field, e.g. spec.pipeline.stages=2 (repeatable)', collect, [])
    .action(async (file: string, options: { set: string[] }) => {
      await validate(file, options.set);
    });
}

async function validate(file: string, overrides: string[]): Promise<void> {
  // Loaded here, not at start-up: reading model files loads TensorFlow.js, which `pipetrain operator` never needs.
  const { modelSourceHooks } = await import('../import/check-source.ts');
  const result = await loadPipelineJobFile(file, overrides, modelSourceHooks(file, (_level, message) => console.error(`${file}: note: ${message}`)));
  // The file may be fine and still name a backend this machine does not have.
  const backend = result.ok ? checkBackendAvailable(result.job.spec.training.backend) : { problems: [], warnings: [] };
  for (const warning of backend.warnings) console.error(`${file}: warning: ${warning}`);
  const problems = result.ok ? backend.problems : result.problems;
  if (result.ok && problems.length === 0) {
    console.log(`${file}: ${summarizeJob(result.job)}`);
    return;
  }
  console.error(formatProblems(problems, file));
  console.error(`${file}: ${problems.length} problem(s)`);
  process.exitCode = 1;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
