// CEL rules the API server enforces on PipelineJobs (x-kubernetes-validations on spec): the
// cross-field checks of semantic.ts that CEL can express, so `kubectl apply` rejects such a job
// at once, and the update rules, which only exist between an old and a new object.
// Update rules: what defines the run (model, data, training, micro-batches, checkpoint storage)
// never changes; how it is laid out on pods (stages, partition, schedule, image, resources,
// placement, metrics port) changes only while the job is suspended, and applies on resume;
// suspend, deadlines, TTL and the failure policy change at any time.

import { modelSourceRules } from './model-source-checks.ts';

export interface CelRule {
  rule: string;
  message: string;
  /** Where the API server reports the error, relative to spec (e.g. ".pipeline.partition"). */
  fieldPath?: string;
  /** Kubernetes' error type: FieldValueInvalid (default), FieldValueRequired or FieldValueForbidden. */
  reason?: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden';
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
    // Freezing every layer leaves nothing to train (freeze-checks.ts also counts layers without weights).
    rule: `!has(self.training.freeze) || !has(self.training.freeze.layers) || self.training.freeze.layers < ${MODEL_LAYER_COUNT}`,
    message: 'spec.training.freeze.layers must be less than the number of layers in spec.model.layers (a transformerBlock with repeat N counts N): freezing them all leaves nothing to train; lower it',
    fieldPath: '.training.freeze.layers',
  },
  {
    // LoRA targets must match a layer (lora-checks.ts also bounds the rank by each adapted kernel).
    rule: "!has(self.training.lora) || !self.training.lora.targets.exists(t, t == 'dense') || self.model.layers.exists(l, l.type == 'dense')",
    message: 'spec.training.lora.targets: "dense" adapts dense layers, but spec.model.layers has none; remove "dense" from the targets',
    fieldPath: '.training.lora.targets',
  },
  {
    rule: "!has(self.training.lora) || !self.training.lora.targets.exists(t, t == 'attention' || t == 'mlp') || self.model.layers.exists(l, l.type == 'transformerBlock')",
    message: 'spec.training.lora.targets: "attention" and "mlp" adapt transformerBlock layers, but spec.model.layers has none; remove them from the targets',
    fieldPath: '.training.lora.targets',
  },
  {
    rule: '!self.model.layers.all(l, has(l.trainable) && !l.trainable)',
    message: 'spec.model.layers[*].trainable: every layer is frozen, so nothing would train; remove trainable: false from a layer with weights',
    fieldPath: '.model.layers',
  },
  {
    rule: '!has(self.checkpoint) || !(has(self.checkpoint.persistentVolumeClaim) && has(self.checkpoint.volumeClaimTemplate))',
    message: 'give either spec.checkpoint.persistentVolumeClaim or spec.checkpoint.volumeClaimTemplate, not both',
    fieldPath: '.checkpoint',
  },
];

const MNIST_PIXELS = 784;
/** spec.model.inputShape has at most this many dimensions (its maxItems). */
const MAX_INPUT_RANK = 8;

// CEL has no product over a list, so the product is spelled out for each rank the schema allows.
function inputShapeProductIs(value: number): string {
  const shape = 'self.model.inputShape';
  const ranks = Array.from({ length: MAX_INPUT_RANK }, (_, i) => i + 1);
  const product = (rank: number) => Array.from({ length: rank }, (_, i) => `${shape}[${i}]`).join(' * ');
  return ranks.reduceRight((otherwise, rank) => `(size(${shape}) == ${rank} ? ${product(rank)} == ${value} : ${otherwise})`, 'false');
}

const LAST_LAYER = 'self.model.layers[size(self.model.layers) - 1]';
const SCHEDULE = 'self.training.learningRateSchedule';

// The model and data checks of model-checks.ts that need no shape inference.
const modelRules: CelRule[] = [
  {
    // tokenCrossentropy is computed from logits (an lmHead), so only the two probability losses need softmax;
    // a classificationHead always ends in softmax (its activation defaults to it, but the merged CRD schema has no per-type default).
    rule: `self.model.loss == 'meanSquaredError' || self.model.loss == 'tokenCrossentropy' || ${LAST_LAYER}.type == 'classificationHead' || (has(${LAST_LAYER}.activation) && ${LAST_LAYER}.activation == 'softmax')`,
    message: 'crossentropy is computed on probabilities, so the last layer of spec.model.layers must apply softmax (set activation: softmax, or append {type: activation, activation: softmax})',
    fieldPath: '.model.layers',
  },
  {
    rule: `self.data.dataset.type != 'mnist' || ${inputShapeProductIs(MNIST_PIXELS)}`,
    message: 'mnist samples have 784 pixels: spec.model.inputShape must be e.g. [784] or [28, 28, 1]',
    fieldPath: '.model.inputShape',
  },
  {
    rule: "self.data.dataset.type != 'synthetic' || self.data.dataset.featureShape == self.model.inputShape",
    message: 'spec.data.dataset.featureShape must equal spec.model.inputShape',
    fieldPath: '.data.dataset.featureShape',
  },
  {
    rule: "self.data.dataset.type != 'synthetic' || self.model.loss == 'meanSquaredError' || self.data.dataset.classes >= 2",
    message: 'spec.data.dataset.classes 0 means a regression target, which needs loss meanSquaredError; crossentropy needs classes >= 2',
    fieldPath: '.data.dataset.classes',
  },
  {
    // The split of data/plan.ts: floor(samples x validationSplit) for validation (CEL's int() truncates).
    rule: "self.data.dataset.type != 'synthetic' || !has(self.data.dataset.samples) || !has(self.data.batchSize) || self.data.batchSize <= self.data.dataset.samples - int(double(self.data.dataset.samples) * (has(self.data.validationSplit) ? self.data.validationSplit : 0.0))",
    message: 'spec.data.batchSize must be <= the training samples of the synthetic dataset (spec.data.dataset.samples less the validation split)',
    fieldPath: '.data.batchSize',
  },
  {
    rule: `!has(self.training.steps) || !has(${SCHEDULE}) || ${SCHEDULE}.type != 'warmupCosine' || !has(${SCHEDULE}.warmupSteps) || ${SCHEDULE}.warmupSteps <= self.training.steps`,
    message: 'spec.training.learningRateSchedule.warmupSteps must be <= spec.training.steps for warmupCosine',
    fieldPath: '.training.learningRateSchedule.warmupSteps',
  },
  {
    rule: `!has(${SCHEDULE}) || ${SCHEDULE}.type != 'warmupCosine' || !has(${SCHEDULE}.minLearningRate) || !has(self.training.optimizer) || !has(self.training.optimizer.learningRate) || ${SCHEDULE}.minLearningRate <= self.training.optimizer.learningRate`,
    message: 'spec.training.learningRateSchedule.minLearningRate must be <= spec.training.optimizer.learningRate',
    fieldPath: '.training.learningRateSchedule.minLearningRate',
  },
];

// The language-model checks of language-model-checks.ts. A CEL fieldPath cannot point at one list
// item, so a check that relates layers names the field as spec.model.layers[*].<field>.
const LAYERS = 'self.model.layers';
const languageModelRules: CelRule[] = [
  {
    rule: "!(self.data.dataset.type in ['tokens', 'sft']) || self.model.loss == 'tokenCrossentropy'",
    message: 'spec.model.loss: a tokens or sft dataset has a next-token target at every position; use loss tokenCrossentropy',
    fieldPath: '.model.loss',
  },
  {
    rule: "self.model.loss != 'tokenCrossentropy' || self.data.dataset.type in ['tokens', 'sft']",
    message: 'spec.data.dataset.type: tokenCrossentropy needs a tokens or sft dataset',
    fieldPath: '.data.dataset.type',
  },
  {
    rule: `!(self.data.dataset.type in ['tokens', 'sft']) || ${LAYERS}[0].type == 'embedding'`,
    message: 'spec.model.layers: a tokens or sft dataset gives token ids, so the first layer must be an embedding',
    fieldPath: '.model.layers',
  },
  {
    rule: `!${LAYERS}.exists(l, l.type == 'lmHead') || (${LAST_LAYER}.type == 'lmHead' && ${LAYERS}.filter(l, l.type == 'lmHead').size() == 1)`,
    message: 'spec.model.layers: lmHead must be the last layer, and the only one',
    fieldPath: '.model.layers',
  },
  {
    rule: `!${LAYERS}.exists(l, l.type == 'lmHead' && has(l.tied) && l.tied) || ${LAYERS}.exists(l, l.type == 'embedding')`,
    message: 'spec.model.layers[*].tied: a tied lmHead shares the embedding matrix, but the model has no embedding layer',
    fieldPath: '.model.layers',
  },
  {
    // The width a block sees is the embedding's units unless a dense or flatten layer changes it;
    // such models are left to the operator's check, which follows the shapes.
    rule: `${LAYERS}.exists(l, l.type == 'dense' || l.type == 'flatten') || ${LAYERS}.all(e, e.type != 'embedding' || !has(e.units) || ${LAYERS}.all(l, l.type != 'transformerBlock' || !has(l.heads) || l.heads == 0 || e.units % l.heads == 0))`,
    message: "spec.model.layers[*].heads: a transformerBlock's heads must divide the model width (the embedding's units)",
    fieldPath: '.model.layers',
  },
  {
    rule: `${LAYERS}.all(l, l.type != 'positionalEmbedding' || !has(l.maxLength) || self.model.inputShape[0] <= l.maxLength)`,
    message: "spec.model.layers[*].maxLength: the window of spec.model.inputShape[0] tokens must not be longer than the positionalEmbedding's maxLength",
    fieldPath: '.model.layers',
  },
  {
    rule: `self.data.dataset.type in ['tokens', 'sft', 'textClassification'] || ${LAYERS}.all(l, l.type != 'embedding' || has(l.vocabSize))`,
    message: 'spec.model.layers[*].vocabSize: an embedding needs a vocabSize; only a tokens, sft or textClassification dataset provides a default',
    fieldPath: '.model.layers',
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

/**
 * The checks of `pipetrain validate` the API server cannot make: each needs the shape of every
 * layer's output, which CEL cannot compute (it has no loop over the layers carrying a shape). The
 * operator makes them and fails such a job with reason InvalidSpec before it creates any pod.
 */
export const OPERATOR_ONLY_CHECKS: { check: string; reason: string }[] = [
  { check: 'a conv2d or maxPooling2d layer gets a rank-3 input', reason: "the input's rank depends on the layers before it" },
  { check: 'no layer shrinks the image to nothing (kernel or pool larger than the image)', reason: 'the image size depends on every earlier kernel, stride and padding' },
  { check: 'a crossentropy loss gets a rank-1 output per sample', reason: "the model's output shape is inferred through all layers" },
  { check: "the model's output size equals the classes of the dataset (mnist: 10)", reason: 'the output size is inferred through all layers' },
];

/** Every rule on the spec node, in the form the CRD schema takes. */
export function specValidations(): Record<string, string>[] {
  return toValidations([...consistencyRules, ...modelRules, ...languageModelRules, ...modelSourceRules, ...updateRules]);
}

/** Rules in the form the CRD schema takes (`x-kubernetes-validations`). */
export function toValidations(rules: CelRule[]): Record<string, string>[] {
  return rules.map(({ rule, message, fieldPath, reason }) => ({
    rule,
    message,
    ...(fieldPath ? { fieldPath } : {}),
    ...(reason ? { reason } : {}),
  }));
}
