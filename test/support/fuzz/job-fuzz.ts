// Runs mutated job files through `pipetrain validate`, in this process (the real command object,
// output captured), and checks what a user sees: exit 0 or 1, every problem on a line of its own
// with a field path, no stack trace.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePipelineJobYaml } from '../../../trainer/src/api/load.ts';
import { buildProgram } from '../../../trainer/src/cli/main.ts';
import { runLocal } from '../../../trainer/src/runner/local-runner.ts';
import type { ProgressReporter } from '../../../trainer/src/runner/progress-output.ts';
import { createRng } from './rng.ts';
import { mutantJob, type MutantJob } from './job-mutations.ts';

export interface ValidateRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** What escaped the command, if anything (a crash). */
  thrown?: string;
}

/** `pipetrain validate <file>` in process. */
export async function validateInProcess(file: string): Promise<ValidateRun> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  const previousExitCode = process.exitCode;
  process.exitCode = undefined;
  console.log = (...args: unknown[]) => void out.push(args.join(' '));
  console.error = (...args: unknown[]) => void err.push(args.join(' '));
  let thrown: string | undefined;
  try {
    await buildProgram().exitOverride().parseAsync(['node', 'pipetrain', 'validate', file]);
  } catch (e) {
    thrown = (e as Error).stack ?? String(e);
  } finally {
    console.log = log;
    console.error = error;
  }
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = previousExitCode;
  return { exitCode, stdout: out.join('\n'), stderr: err.join('\n'), thrown };
}

/** Problems of the whole file (no field to name): YAML syntax, an empty file, a document that is no mapping. */
const FILE_LEVEL = /^(invalid YAML: |.* is empty; expected a PipelineJob|must be an object \(a mapping\), got )/;
/** A field path as formatPath prints it: plain keys joined by dots, indices and other keys (quoted) in brackets. */
const FIELD_PATH = /^([A-Za-z_$][\w$-]*|\["(?:[^"\\]|\\.)*"\])(\.[A-Za-z_$][\w$-]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])*: \S/u;

/** What is wrong with one validate run, or undefined. */
export function checkValidateRun(file: string, run: ValidateRun): string | undefined {
  if (run.thrown) return `validate threw: ${run.thrown}`;
  if (run.exitCode !== 0 && run.exitCode !== 1) return `exit code ${run.exitCode}`;
  const output = `${run.stdout}\n${run.stderr}`;
  if (/^\s+at .+:\d+:\d+\)?$/m.test(output)) return `a stack trace in the output:\n${output}`;
  if (run.exitCode === 0) return run.stdout.startsWith(`${file}: valid PipelineJob `) ? undefined : `exit 0 without the summary: ${output}`;
  const lines = run.stderr.split('\n').filter((line) => !line.startsWith(`${file}: warning: `));
  const count = /: (\d+) problem\(s\)$/.exec(lines.at(-1) ?? '');
  if (!count || Number(count[1]) !== lines.length - 1 || lines.length < 2) return `the problem count does not match the lines:\n${run.stderr}`;
  for (const line of lines.slice(0, -1)) {
    if (!line.startsWith(`${file}`)) return `a problem line that does not start with the file: ${line}`;
    const rest = line.slice(file.length).replace(/^:\d+:\d+/, '').replace(/^: /, '');
    // `spec.model.layers[1].units: message`, or a whole-file problem.
    if (!FIELD_PATH.test(rest) && !FILE_LEVEL.test(rest)) return `a problem without a field path: ${line}`;
  }
  return undefined;
}

export interface JobFuzzResult {
  cases: number;
  valid: number;
  invalid: number;
  /** Mutants that validated (for `train`), with what was mutated. */
  validMutants: MutantJob[];
  failures: string[];
  seconds: number;
}

export async function runJobFuzz(options: { seed: number; cases: number; dir: string }): Promise<JobFuzzResult> {
  const started = performance.now();
  const rng = createRng(options.seed);
  const result: JobFuzzResult = { cases: 0, valid: 0, invalid: 0, validMutants: [], failures: [], seconds: 0 };
  for (let i = 0; i < options.cases && result.failures.length < 10; i++) {
    const mutant = mutantJob(rng.fork(i));
    const file = join(options.dir, `mutant-${i}.yaml`);
    writeFileSync(file, mutant.yaml);
    const run = await validateInProcess(file);
    result.cases++;
    const wrong = checkValidateRun(file, run);
    if (wrong) result.failures.push(`case ${i} of seed ${options.seed} (${mutant.base}: ${mutant.what}): ${wrong}`);
    if (run.exitCode === 0) {
      result.valid++;
      result.validMutants.push(mutant);
    } else result.invalid++;
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

export interface TrainCheck {
  what: string;
  status: string;
  error?: string;
}

/**
 * Trains validated mutants for one step with the real `pipetrain train` path (runLocal: one
 * process per stage, supervised), and says how each ended. A validated job must train.
 */
export async function trainMutants(mutants: MutantJob[], baseDir: string): Promise<TrainCheck[]> {
  const checks: TrainCheck[] = [];
  for (const mutant of mutants) {
    const parsed = parsePipelineJobYaml(mutant.yaml, 'mutant.yaml', ['spec.training.steps=1', 'spec.training.epochs=null', 'spec.failurePolicy.maxRestarts=0']);
    if (!parsed.ok) {
      checks.push({ what: mutant.what, status: 'Invalid with one step', error: parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ') });
      continue;
    }
    const messages: string[] = [];
    const reporter: ProgressReporter = { step: () => undefined, info: () => undefined, warn: (m) => void messages.push(m), close: () => undefined };
    const summary = await runLocal({ job: parsed.job, baseDir, reporter, stallTimeoutSeconds: 60 });
    checks.push({ what: mutant.what, status: summary.status, error: summary.error });
  }
  return checks;
}
