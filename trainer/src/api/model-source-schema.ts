// The `spec.model.from` part of the PipelineJob schema: where a job's starting weights come from
// (another job's checkpoint, a tfjs-layers model.json, a Hugging Face GPT-2 folder). One object
// with one optional field per kind, not a union: the CRD generator keeps it one structural node,
// and "exactly one kind" is a semantic check (model-source-checks.ts) and a CEL rule.
import { z } from 'zod';
import { positiveInt } from './layer-fields.ts';

// As data-schema.ts's MAX_PATH_LENGTH; not imported from there: data-schema.ts imports model-schema.ts, which imports this file.
const MAX_PATH_LENGTH = 4096;
const sourcePath = z.string().min(1).max(MAX_PATH_LENGTH);

const CheckpointSource = z
  .strictObject({
    path: sourcePath.describe('path: the other job\'s checkpoint folder (its spec.checkpoint.path), relative to the job file. On Kubernetes: an absolute path under spec.checkpoint.path (the job\'s claim) or under persistentVolumeClaim.mountPath. Required.'),
    step: positiveInt.optional().describe('step: the committed step to start from. Default: the newest committed step that verifies.'),
    // Optional rather than default(false): a default inside an optional object would make the CRD's
    // defaults differ from the loader's for jobs without from (crd.test.ts compares them).
    optimizerState: z
      .boolean()
      .optional()
      .describe('optimizerState: also carry over the optimizer\'s slots and scalars (Adam moments, momentum); only when the layers are identical and the optimizer type is the same. Default false: the optimizer starts fresh.'),
  })
  .describe('checkpoint: a committed pipetrain checkpoint of another job, written by any partition. Layers are matched by name (or by position when unnamed) and shape.');

const ClaimSource = z
  .strictObject({
    claimName: z.string().min(1).max(253).describe('claimName: name of an existing PersistentVolumeClaim in the job\'s namespace. Required.'),
    mountPath: sourcePath.describe('mountPath: where stage pods mount it, read-only; an absolute folder apart from spec.checkpoint.path and /tmp, and the paths of from are under it. Required.'),
  })
  .describe('persistentVolumeClaim: operator only: a claim holding the source (another job\'s checkpoint claim, say), mounted read-only on every stage pod. Default: the paths must be on the job\'s own checkpoint claim.');

export const ModelSourceSchema = z
  .strictObject({
    checkpoint: CheckpointSource.optional(),
    tfjsLayers: sourcePath
      .optional()
      .describe('tfjsLayers: a model.json that tf.LayersModel.save wrote (modelTopology plus weightsManifest), relative to the job file. On Kubernetes: an absolute path under spec.checkpoint.path (the job\'s claim) or under persistentVolumeClaim.mountPath. Dense, Conv2D, MaxPooling2D, Flatten, Dropout, Activation and LayerNormalization layers are read.'),
    huggingface: sourcePath
      .optional()
      .describe('huggingface: a GPT-2 folder (config.json plus model.safetensors, as save_pretrained writes it with safe_serialization; vocab.json for a pipetrain char vocabulary), relative to the job file. Its tokenizer, when stated, must be the one the data is tokenized with.'),
    persistentVolumeClaim: ClaimSource.optional(),
  })
  .describe('from: starting weights from elsewhere; give exactly one of checkpoint, tfjsLayers or huggingface. Used only when the job has no checkpoint of its own yet (a resume wins). Layers found in the source start with its weights; layers it lacks start fresh (seeded as usual); source layers the job lacks are ignored. Default: every layer starts fresh.');

export type ModelSource = z.output<typeof ModelSourceSchema>;

/** The kinds of source, in documentation order. */
export const MODEL_SOURCE_KINDS = ['checkpoint', 'tfjsLayers', 'huggingface'] as const;
export type ModelSourceKind = (typeof MODEL_SOURCE_KINDS)[number];

/** The `layers` value that takes the job's layers from a tfjsLayers source (resolved when the job file is read). */
export const LAYERS_FROM_MODEL = 'fromModel';
