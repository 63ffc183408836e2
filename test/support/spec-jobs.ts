// Job files shared by the spec and CLI tests: a valid base and a way to derive broken variants.
import { stringify } from 'yaml';

export const BASE_JOB = {
  apiVersion: 'pipetrain.io/v1alpha1',
  kind: 'PipelineJob',
  metadata: { name: 'mnist-mlp' },
  spec: {
    model: {
      inputShape: [784],
      layers: [
        { type: 'dense', units: 64, activation: 'relu' },
        { type: 'dropout', rate: 0.1 },
        { type: 'dense', units: 10, activation: 'softmax' },
      ],
      loss: 'sparseCategoricalCrossentropy',
    },
    pipeline: { stages: 2, microBatches: 4 },
    data: { dataset: { type: 'mnist' }, batchSize: 32 },
    training: { steps: 100 },
  },
};

/** A small char-level GPT on a tokens dataset (the data need not exist: validation does not read it). */
export const GPT_JOB = {
  apiVersion: 'pipetrain.io/v1alpha1',
  kind: 'PipelineJob',
  metadata: { name: 'gpt' },
  spec: {
    model: {
      inputShape: [16],
      layers: [
        { type: 'embedding', units: 8 },
        { type: 'positionalEmbedding', maxLength: 16 },
        { type: 'transformerBlock', heads: 2, repeat: 2 },
        { type: 'layerNormalization', epsilon: 1e-5 },
        { type: 'lmHead', tied: true },
      ],
      loss: 'tokenCrossentropy',
    },
    pipeline: { stages: 2, microBatches: 2 },
    data: { dataset: { type: 'tokens', path: 'tokens' }, batchSize: 4 },
    training: { steps: 10 },
  },
};

/** YAML of the GPT job with fields replaced, as jobYaml does. */
export function gptYaml(changes: Record<string, unknown> = {}): string {
  const job: unknown = structuredClone(GPT_JOB);
  for (const [path, value] of Object.entries(changes)) setPath(job, path.split('.'), value);
  return stringify(job);
}

/** YAML of the base job with fields replaced (`undefined` deletes): { 'spec.pipeline.stages': 5 }. */
export function jobYaml(changes: Record<string, unknown> = {}): string {
  const job: unknown = structuredClone(BASE_JOB);
  for (const [path, value] of Object.entries(changes)) setPath(job, path.split('.'), value);
  return stringify(job);
}

function setPath(node: unknown, keys: string[], value: unknown): void {
  const [key, ...rest] = keys;
  if (key === undefined) return;
  const record = node as Record<string, unknown>;
  if (rest.length > 0) return setPath(record[key], rest, value);
  if (value === undefined) delete record[key];
  else record[key] = value;
}
