// The PipelineJob API: the one schema from which the types, runtime validation (with defaults),
// the CRD (crds/pipetrain.io_pipelinejobs.yaml) and docs/api.md are all derived.
// Parts live next to this file (model, data, pipeline/training, pod fields); this file composes them.
import { z } from 'zod';
import { ActivationSchema, LayerSchema, ModelSchema } from './model-schema.ts';
import { DataSchema, DatasetSchema } from './data-schema.ts';
import { PipelineSchema, TrainingSchema } from './run-schema.ts';
import { podFields } from './pod-schema.ts';

export const API_GROUP = 'pipetrain.io';
export const API_VERSION = 'v1alpha1';
export const KIND = 'PipelineJob';
export const PLURAL = 'pipelinejobs';
export const SHORT_NAME = 'pj';

export { LAYER_TYPES } from './model-schema.ts';
export { DATASET_TYPES } from './data-schema.ts';

// Names become pod and service names ("<name>-stage-3"), so they follow RFC 1123 labels.
const MetadataSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(52)
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must consist of lowercase letters, digits and "-", starting and ending with a letter or digit')
      .describe('name: name of the job; lowercase letters, digits and "-", at most 52 characters (room for pod suffixes). Required.'),
    namespace: z.string().min(1).optional().describe('namespace: Kubernetes namespace. Default: the current one.'),
    labels: z.record(z.string(), z.string()).optional().describe('labels: Kubernetes labels.'),
    annotations: z.record(z.string(), z.string()).optional().describe('annotations: Kubernetes annotations.'),
  })
  // Not strict: objects read back from the API server carry uid, creationTimestamp, etc.
  .describe('metadata: standard Kubernetes object metadata; only name is required.');

export const PipelineJobSpecSchema = z
  .strictObject({
    model: ModelSchema,
    pipeline: PipelineSchema,
    data: DataSchema,
    training: TrainingSchema,
    ...podFields,
  })
  .describe('spec: the model, how it is split into pipeline stages, the data and the training run.');

export const PipelineJobSchema = z
  .strictObject({
    apiVersion: z.literal(`${API_GROUP}/${API_VERSION}`).describe(`apiVersion: must be "${API_GROUP}/${API_VERSION}".`),
    kind: z.literal(KIND).describe(`kind: must be "${KIND}".`),
    metadata: MetadataSchema,
    spec: PipelineJobSpecSchema,
    status: z.unknown().optional().describe('status: written by the operator; ignored in job files.'),
  })
  .describe('PipelineJob: a pipeline-parallel TensorFlow.js training job.');

export type PipelineJob = z.output<typeof PipelineJobSchema>;
export type PipelineJobSpec = PipelineJob['spec'];
export type LayerSpec = z.output<typeof LayerSchema>;
export type DatasetSpec = z.output<typeof DatasetSchema>;
export type Activation = z.output<typeof ActivationSchema>;
export type LayerType = LayerSpec['type'];
