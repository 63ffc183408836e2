// Tiny supervised fine-tuning jobs for tests: sums as demonstrations ("12+7=" → "19;"), a few
// characters each, for the tiny GPT of gpt-jobs.ts (a window of 8 tokens), so some samples are
// padded and some cut.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipelineJobSchema, type PipelineJobSpec } from '../../trainer/src/api/schema.ts';
import { tinyGptLayers } from './gpt-jobs.ts';

/** `count` demonstrations as objects: prompt "a+b=", completion "<sum>;". */
export function sumDemonstrations(count: number): { prompt: string; completion: string }[] {
  return Array.from({ length: count }, (_, i) => {
    const a = (i * 37) % 100;
    const b = (i * 11) % 13;
    return { prompt: `${a}+${b}=`, completion: `${a + b};` };
  });
}

/** Writes lines (objects are JSON-encoded, strings written as they are) to a fresh temporary file. */
export async function writeDemonstrations(lines: (object | string)[], name = 'demos.jsonl'): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'pipetrain-sft-')), name);
  await writeFile(file, lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n');
  return file;
}

/** A tiny GPT job fine-tuned on `file` with a char tokenizer of its own characters (unless `dataset` says otherwise). */
export function tinySftJob(file: string, spec: Record<string, unknown> = {}, dataset: Record<string, unknown> = {}): PipelineJobSpec {
  return PipelineJobSchema.parse({
    apiVersion: 'pipetrain.io/v1alpha1',
    kind: 'PipelineJob',
    metadata: { name: 'tiny-sft' },
    spec: {
      model: { inputShape: [8], layers: tinyGptLayers(true), loss: 'tokenCrossentropy' },
      pipeline: { stages: 1, microBatches: 2 },
      data: { dataset: { type: 'sft', path: file, tokenizer: { type: 'char' }, ...dataset }, batchSize: 4, validationSplit: 0.2, shuffle: { enabled: true, seed: 3 } },
      training: {
        steps: 4,
        optimizer: { type: 'adamw', learningRate: 0.01, beta2: 0.99, weightDecay: 0.1 },
        learningRateSchedule: { type: 'warmupCosine', warmupSteps: 1, minLearningRate: 0.001 },
        gradientClipNorm: 1,
        evalEverySteps: 2,
        evalSamples: 4,
        backend: 'cpu',
      },
      ...spec,
    },
  }).spec;
}

/**
 * A workspace for CLI tests: demos.jsonl (sums, and one prompt too long for the window: skipped)
 * and a job file training the tiny GPT on it in 2 stages with checkpoints in <dir>/checkpoints.
 */
export async function sftWorkspace(options: { lines?: (object | string)[]; spec?: Record<string, unknown> } = {}): Promise<{ dir: string; job: string; checkpoints: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'pipetrain-sft-'));
  const lines = options.lines ?? [...sumDemonstrations(24), { prompt: '1+2+3+4+5=', completion: '15;' }];
  await writeFile(join(dir, 'demos.jsonl'), lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n');
  const job = {
    apiVersion: 'pipetrain.io/v1alpha1',
    kind: 'PipelineJob',
    metadata: { name: 'tiny-sft' },
    spec: {
      model: { inputShape: [8], layers: tinyGptLayers(true), loss: 'tokenCrossentropy' },
      pipeline: { stages: 2, microBatches: 2, schedule: '1F1B' },
      data: { dataset: { type: 'sft', path: 'demos.jsonl', tokenizer: { type: 'char' } }, batchSize: 4, validationSplit: 0.2 },
      training: {
        epochs: 3,
        optimizer: { type: 'adamw', learningRate: 0.01, beta2: 0.99, weightDecay: 0.1 },
        gradientClipNorm: 1,
        evalEverySteps: 5,
        evalSamples: 4,
        backend: 'cpu',
        logEverySteps: 1,
      },
      checkpoint: { path: 'checkpoints', everySteps: 5, keep: 10 },
      failurePolicy: { maxRestarts: 3 },
      ...options.spec,
    },
  };
  const file = join(dir, 'job.yaml');
  await writeFile(file, `${JSON.stringify(job, null, 2)}\n`);
  return { dir, job: file, checkpoints: join(dir, 'checkpoints') };
}
