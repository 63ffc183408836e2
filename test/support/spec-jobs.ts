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
