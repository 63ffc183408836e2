// CEL rules the API server enforces on PipelineJobs (x-kubernetes-validations on spec): the
// cross-field checks of semantic.ts that CEL can express, so `kubectl apply` rejects such a job
// at once, and the update rules, which only exist between an old and a new object.
// Update rules: what defines the run (model, data, training, micro-batches, checkpoint storage)
// never changes; how it is laid out on pods (stages, partition, schedule, image, resources,
// placement, metrics port) changes only while the job is suspended, and applies on resume;
// suspend, deadlines, TTL and the failure policy change at any time.

export interface CelRule {
  rule: string;
  message: string;
  /** Where the API server reports the error, relative to spec (e.g. ".pipeline.partition"). */
  fieldPath?: string;
  /** Kubernetes' error type: FieldValueInvalid (default) or FieldValueForbidden. */
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden';
}

/** Fields laid out on pods: changeable while suspended. Each is compared as a whole. */
export const CHANGEABLE_WHILE_SUSPENDED = ['pipeline.stages', 'pipeline.partition', 'pipeline.schedule', 'pipeline.partitionPolicy', 'image', 'resources', 'nodeSelector', 'tolerations', 'metricsPort'] as const;
/** Fields that define the run: never changeable. */
export const IMMUTABLE = ['model', 'data', 'training', 'pipeline.microBatches', 'checkpoint'] as const;
/** Fields the operator reads afresh on every reconcile: changeable at any time. */
export const ALWAYS_CHANGEABLE = ['suspend', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished', 'failurePolicy'] as const;

/**
 * CEL for "this field did not change", absent fields included: `has()` at every level, because
 * the optional form (`self.?a == oldSelf.?a`) is priced by the API server far over its budget.
 */
function unchanged(field: string, self = 'self', old = 'oldSelf'): string {
  const [head, ...rest] = field.split('.');
  if (head === undefined || head === '') return `${self} == ${old}`;
  const [s, o] = [`${self}.${head}`, `${old}.${head}`];
  return `has(${s}) == has(${o}) && (!has(${s}) || ${unchanged(rest.join('.'), s, o)})`;
}

/** CEL for the number of model layers: a transformerBlock with repeat N counts N (model/expand.ts). */
const MODEL_LAYER_COUNT = 'self.model.layers.map(l, has(l.repeat) ? l.repeat : 1).sum()';

const consistencyRules: CelRule[] = [
  {
    rule: '!(has(self.pipeline.stages) && has(self.pipeline.partition))',
    message: 'give either spec.pipeline.stages or spec.pipeline.partition, not both',
    fieldPath: '.pipeline',
  },
  {
    rule: `!has(self.pipeline.stages) || self.pipeline.stages <= ${MODEL_LAYER_COUNT}`,
    message: 'spec.pipeline.stages must be <= the number of layers in spec.model.layers (a transformerBlock with repeat N counts N): every stage needs at least one layer',
    fieldPath: '.pipeline.stages',
  },
  {
    rule: `!has(self.pipeline.partition) || self.pipeline.partition.sum() == ${MODEL_LAYER_COUNT}`,
    message: 'spec.pipeline.partition must sum to the number of layers in spec.model.layers (a transformerBlock with repeat N counts N)',
    fieldPath: '.pipeline.partition',
  },
  {
    rule: '!has(self.data.batchSize) || !has(self.pipeline.microBatches) || self.data.batchSize % self.pipeline.microBatches == 0',
    message: 'spec.data.batchSize must be divisible by spec.pipeline.microBatches so micro-batches are equal',
    fieldPath: '.data.batchSize',
  },
  {
    rule: '!(has(self.training.steps) && has(self.training.epochs))',
    message: 'give either spec.training.steps or spec.training.epochs, not both',
    fieldPath: '.training',
  },
  {
    rule: '!has(self.checkpoint) || !(has(self.checkpoint.persistentVolumeClaim) && has(self.checkpoint.volumeClaimTemplate))',
    message: 'give either spec.checkpoint.persistentVolumeClaim or spec.checkpoint.volumeClaimTemplate, not both',
    fieldPath: '.checkpoint',
  },
];

const updateRules: CelRule[] = [
  ...IMMUTABLE.map((field) => ({
    rule: unchanged(field),
    message: `spec.${field} is immutable: it defines the training run; create a new PipelineJob to change it`,
    fieldPath: `.${field}`,
    reason: 'FieldValueForbidden' as const,
  })),
  {
    rule: `(has(self.suspend) && self.suspend) || (${CHANGEABLE_WHILE_SUSPENDED.map((field) => `(${unchanged(field)})`).join(' && ')})`,
    message: `spec.${CHANGEABLE_WHILE_SUSPENDED.join(', spec.')} change only while the job is suspended: set spec.suspend: true (in the same or an earlier update); the change applies when it resumes`,
    reason: 'FieldValueForbidden',
  },
];

/** Every rule on the spec node, in the form the CRD schema takes. */
export function specValidations(): Record<string, string>[] {
  return [...consistencyRules, ...updateRules].map(({ rule, message, fieldPath, reason }) => ({
    rule,
    message,
    ...(fieldPath ? { fieldPath } : {}),
    ...(reason ? { reason } : {}),
  }));
}
