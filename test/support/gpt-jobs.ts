// Tiny GPT jobs for tests: a few hundred parameters per block, trained in milliseconds per step on
// cpu, on a prepared folder of the first characters of Moby Dick.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PipelineJobSchema, type PipelineJobSpec } from '../../trainer/src/api/schema.ts';
import { mobyDickText, writeTokenFolder } from './token-folders.ts';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> | T[K] : T[K] };

/** A prepared char-level folder of the first 6,000 characters of Moby Dick, in a fresh temporary folder. */
export async function tinyTokenFolder(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'pipetrain-tokens-')), 'tokens');
  await writeTokenFolder(dir, await mobyDickText(6000), { shardTokens: 2000 });
  return dir;
}

/** The layers of a tiny GPT: embedding, positions, 3 blocks (one `repeat`), final LayerNorm, head. */
export function tinyGptLayers(tied: boolean): unknown[] {
  return [
    { type: 'embedding', units: 16 },
    { type: 'positionalEmbedding', maxLength: 8, dropout: 0.1 },
    { type: 'transformerBlock', heads: 2, repeat: 3, mlpRatio: 2, dropout: 0.1, useBias: false },
    { type: 'layerNormalization', epsilon: 1e-5, center: false },
    { type: 'lmHead', tied },
  ];
}

/** A tiny GPT job on `tokenDir`: 7 layers, AdamW with warm-up and cosine decay, clipping. */
export function tinyGptJob(tokenDir: string, options: { tied?: boolean } = {}, spec: DeepPartial<PipelineJobSpec> = {}): PipelineJobSpec {
  return PipelineJobSchema.parse({
    apiVersion: 'pipetrain.io/v1alpha1',
    kind: 'PipelineJob',
    metadata: { name: 'tiny-gpt' },
    spec: {
      model: { inputShape: [8], layers: tinyGptLayers(options.tied ?? true), loss: 'tokenCrossentropy' },
      pipeline: { stages: 2, microBatches: 2 },
      data: { dataset: { type: 'tokens', path: tokenDir }, batchSize: 4 },
      training: {
        steps: 3,
        optimizer: { type: 'adamw', learningRate: 0.01, beta2: 0.99, weightDecay: 0.1 },
        learningRateSchedule: { type: 'warmupCosine', warmupSteps: 1, minLearningRate: 0.001 },
        gradientClipNorm: 1,
        evalEverySteps: 2,
        evalSamples: 6,
        backend: 'cpu',
      },
      ...spec,
    },
  }).spec;
}

/**
 * A workspace for CLI tests: a token folder of the first `chars` characters of Moby Dick and a job
 * file (JSON, which is YAML) training a tiny GPT on it with checkpoints in <dir>/checkpoints.
 */
export async function gptWorkspace(options: { chars?: number; tied?: boolean; spec?: Record<string, unknown> } = {}): Promise<{ dir: string; job: string; checkpoints: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'pipetrain-gpt-'));
  await writeTokenFolder(join(dir, 'tokens'), await mobyDickText(options.chars ?? 6000), { shardTokens: 2000 });
  const job = {
    apiVersion: 'pipetrain.io/v1alpha1',
    kind: 'PipelineJob',
    metadata: { name: 'tiny-gpt' },
    spec: {
      model: { inputShape: [8], layers: tinyGptLayers(options.tied ?? true), loss: 'tokenCrossentropy' },
      pipeline: { stages: 3, microBatches: 2, schedule: '1F1B' },
      data: { dataset: { type: 'tokens', path: 'tokens' }, batchSize: 4 },
      training: {
        steps: 12,
        optimizer: { type: 'adamw', learningRate: 0.01, beta2: 0.99, weightDecay: 0.1 },
        learningRateSchedule: { type: 'warmupCosine', warmupSteps: 2, minLearningRate: 0.001 },
        gradientClipNorm: 1,
        evalEverySteps: 4,
        evalSamples: 8,
        backend: 'cpu',
        logEverySteps: 1,
      },
      checkpoint: { path: 'checkpoints', everySteps: 4, keep: 10 },
      failurePolicy: { maxRestarts: 5 },
      ...options.spec,
    },
  };
  const file = join(dir, 'job.yaml');
  await writeFile(file, `${JSON.stringify(job, null, 2)}\n`);
  return { dir, job: file, checkpoints: join(dir, 'checkpoints') };
}
