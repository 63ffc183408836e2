// Parts of the PipelineJob spec used by the operator (pods, checkpoints, restarts).
// The local runner ignores them; they are defined here so every job file validates the same way.
import { z } from 'zod';
import { MAX_PATH_LENGTH } from './data-schema.ts';

// Bounds (entries, lengths) let the API server price the CEL rules that compare these fields.
/** A map of at most `max` entries (zod checks it; `maxProperties` tells the CRD). */
function boundedMap<V extends z.ZodType>(value: V, max: number) {
  return z
    .record(z.string(), value)
    .refine((map) => Object.keys(map).length <= max, `must have at most ${max} entries`)
    .meta({ maxProperties: max });
}

const stringMap = (description: string) => boundedMap(z.string().max(253), 64).describe(description);

// Kubernetes quantities may be written as numbers (`cpu: 2`); they are kept as strings.
const QuantitySchema = z
  .union([z.string().max(64), z.number()])
  .transform(String)
  .describe('A Kubernetes quantity, e.g. "500m", "2Gi" or 1.');

export const CheckpointSchema = z
  .strictObject({
    path: z.string().min(1).max(MAX_PATH_LENGTH).describe('path: folder (or volume mount) where checkpoints are written. Required.'),
    everySteps: z.int().min(1).default(100).describe('everySteps: optimizer steps between checkpoints. Default 100.'),
    keep: z.int().min(1).default(3).describe('keep: number of most recent checkpoints kept, >= 1. Default 3.'),
    persistentVolumeClaim: z
      .strictObject({
        claimName: z.string().min(1).max(253).describe('claimName: name of an existing PersistentVolumeClaim in the job\'s namespace (ReadWriteMany, so every stage on any node can mount it). Required.'),
      })
      .optional()
      .describe('persistentVolumeClaim: operator only: an existing claim mounted at path on every stage pod; it is never deleted by the operator. Give this or volumeClaimTemplate, not both.'),
    volumeClaimTemplate: z
      .strictObject({
        accessModes: z.array(z.string().max(32)).max(4).optional().describe('accessModes: access modes of the claim. Default ["ReadWriteMany"].'),
        storageClassName: z.string().max(253).optional().describe('storageClassName: storage class of the claim. Default: the cluster default.'),
        storage: QuantitySchema.describe('storage: requested size, e.g. "1Gi". Required.'),
        deleteWithJob: z.boolean().optional().describe('deleteWithJob: delete the claim (and the checkpoints) when the job is deleted. Default false: checkpoints are the user\'s data and are kept.'),
      })
      .optional()
      .describe('volumeClaimTemplate: operator only: a PersistentVolumeClaim named "<job>-checkpoints" that the operator creates and mounts at path on every stage pod. Give this or persistentVolumeClaim, not both.'),
  })
  .describe('checkpoint: periodic checkpoints that every stage commits together; restarts resume from the newest one. Default: none.');

export const FailurePolicySchema = z
  .strictObject({
    maxRestarts: z.int().min(0).default(3).describe('maxRestarts: restarts from the last checkpoint before the job fails. Default 3.'),
    nodeFailureSeconds: z
      .int()
      .min(1)
      .default(15)
      .describe('nodeFailureSeconds: seconds a stage\'s node may go without renewing its heartbeat Lease before the stage counts as failed and the job restarts elsewhere. Default 15.'),
  })
  .describe('failurePolicy: how often and when the whole pipeline is restarted after a stage fails.');

const ResourcesSchema = z
  .strictObject({
    requests: boundedMap(QuantitySchema, 16)
      .optional()
      .describe('requests: minimum resources per stage pod, e.g. {cpu: "1", memory: "2Gi"}.'),
    limits: boundedMap(QuantitySchema, 16)
      .optional()
      .describe('limits: maximum resources per stage pod, e.g. {"nvidia.com/gpu": 1}.'),
  })
  .describe('resources: compute resources of each stage pod, as in a Kubernetes container.');

const TolerationSchema = z
  .strictObject({
    key: z.string().max(316).optional().describe('key: taint key the toleration applies to; empty matches all keys.'),
    operator: z.enum(['Exists', 'Equal']).optional().describe('operator: "Exists" or "Equal". Default (Kubernetes): Equal.'),
    value: z.string().max(63).optional().describe('value: taint value to match with operator Equal.'),
    effect: z.string().max(32).optional().describe('effect: taint effect to match: NoSchedule, PreferNoSchedule or NoExecute; empty matches all.'),
    tolerationSeconds: z
      .int()
      .min(0)
      .optional()
      .describe('tolerationSeconds: seconds a NoExecute taint is tolerated before eviction. Default: forever.'),
  })
  .describe('A Kubernetes toleration.');

export const podFields = {
  checkpoint: CheckpointSchema.optional(),
  failurePolicy: FailurePolicySchema.optional(),
  suspend: z.boolean().default(false).describe('suspend: operator only: true deletes the stage pods and keeps the checkpoints; false (again) resumes from the last checkpoint. Default false.'),
  activeDeadlineSeconds: z
    .int()
    .min(1)
    .optional()
    .describe('activeDeadlineSeconds: operator only: seconds from the start of the job after which it fails with reason DeadlineExceeded. Default: no deadline.'),
  ttlSecondsAfterFinished: z
    .int()
    .min(0)
    .optional()
    .describe('ttlSecondsAfterFinished: operator only: seconds after the job finished (Succeeded or Failed) when the operator deletes it. Default: kept.'),
  image: z.string().min(1).max(1024).optional().describe('image: container image of the stage pods. Default: chosen by the operator.'),
  metricsPort: z
    .int()
    .min(1)
    .max(65535)
    .default(9400)
    .describe('metricsPort: port serving /metrics and /healthz in each stage. Default 9400.'),
  resources: ResourcesSchema.optional(),
  nodeSelector: stringMap('nodeSelector: node labels a stage pod must match, as in a Kubernetes pod.').optional(),
  tolerations: z
    .array(TolerationSchema)
    .max(64)
    .optional()
    .describe('tolerations: taints the stage pods tolerate, as in a Kubernetes pod.'),
};
