// `pipetrain stage --prepare-data`: what the operator's preparation pod runs before a job's stage
// pods start. It reads the stage configuration the stage pods get (CONFIG_ENV: the job, baseDir) and
// prepares the job's tokens dataset from spec.data.dataset.prepare exactly as `pipetrain train` does
// locally (runner/prepare-data.ts), so a job file means the same on both. Idempotent: prepare's cache
// (the inputs' SHA-256 and the settings) makes a run on prepared data a no-op. One preparer per job
// (the operator creates one pod, and the stage pods only after it succeeded), so no lock is needed.
import { PipelineJobSchema } from '../api/schema.ts';
import { CONFIG_ENV, StageExit, type StageConfig } from '../contract/index.ts';
import { DataError } from '../data/dataset.ts';
import { prepareTokenData } from '../runner/prepare-data.ts';
import { createProgressReporter } from '../runner/progress-output.ts';

/** Prepares the configured job's data; the exit code as StageExit (InvalidJob: retrying cannot help). */
export async function prepareJobData(environment: NodeJS.ProcessEnv = process.env, log: NodeJS.WriteStream = process.stderr): Promise<number> {
  try {
    const config = readConfig(environment);
    const parsed = PipelineJobSchema.safeParse(config.job);
    if (!parsed.success) throw new DataError(`${CONFIG_ENV}: the job is not a valid PipelineJob: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const reporter = createProgressReporter({ format: 'text', everySteps: 1, stream: log });
    await prepareTokenData(parsed.data.spec, config.baseDir, reporter);
    reporter.close();
    return StageExit.Succeeded;
  } catch (error) {
    // The last lines of the log are the pod's termination message: the operator shows them in status.
    log.write(`prepare failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof DataError ? StageExit.InvalidJob : StageExit.Failed;
  }
}

function readConfig(environment: NodeJS.ProcessEnv): StageConfig {
  const raw = environment[CONFIG_ENV];
  if (!raw) throw new DataError(`${CONFIG_ENV} is not set (the stage configuration, JSON)`);
  try {
    return JSON.parse(raw) as StageConfig;
  } catch {
    throw new DataError(`${CONFIG_ENV} is not valid JSON`);
  }
}
