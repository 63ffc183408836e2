// The `spec.pipeline` and `spec.training` parts of the PipelineJob schema.
import { z } from 'zod';
import { MAX_REPEAT } from './language-model-schema.ts';
import { MAX_LAYERS } from './model-schema.ts';

const PipelineObject = z.strictObject({
  stages: z
    .int()
    .min(1)
    .optional()
    .describe('stages: number of pipeline stages (processes); layers are split to balance partitionPolicy. Give stages or partition, not both. Default 1 when neither is given.'),
  partition: z
    .array(z.int().min(1))
    .min(1)
    .max(MAX_LAYERS)
    .optional()
    .describe('partition: explicit number of layers per stage, in order, e.g. [3, 2, 2, 2]; must sum to the number of layers. Give stages or partition, not both.'),
  microBatches: z
    .int()
    .min(1)
    .default(4)
    .describe('microBatches: number of micro-batches each batch is split into; must divide spec.data.batchSize. Default 4.'),
  schedule: z
    .enum(['GPipe', '1F1B'])
    .default('1F1B')
    .describe('schedule: "GPipe" (all forwards, then all backwards) or "1F1B" (one forward, one backward; less activation memory). Default "1F1B".'),
  partitionPolicy: z
    .enum(['parameters', 'profile'])
    .default('parameters')
    .describe('partitionPolicy: how layers are split when stages is given: "parameters" balances parameter counts, "profile" balances measured forward+backward time on the chosen backend. Default "parameters".'),
});

export const PipelineSchema = PipelineObject.transform(defaultStages)
  .prefault({})
  .describe('pipeline: how the model is split into stages and how micro-batches flow through them. Default: 1 stage.');

/** `stages: 1` when neither `stages` nor `partition` is given, as documented. */
function defaultStages<T extends { stages?: number; partition?: number[] }>(pipeline: T): T {
  return pipeline.stages === undefined && pipeline.partition === undefined ? { ...pipeline, stages: 1 } : pipeline;
}

const OptimizerSchema = z
  .strictObject({
    type: z.enum(['sgd', 'momentum', 'adam', 'adamw']).default('adam').describe('type: "sgd", "momentum", "adam", or "adamw" (Adam with decoupled weight decay, as PyTorch\'s AdamW). Default "adam".'),
    learningRate: z.number().positive().default(0.001).describe('learningRate: step size (peak value under warmupCosine), > 0. Default 0.001.'),
    momentum: z.number().min(0).lt(1).default(0.9).describe('momentum: momentum coefficient for type "momentum", in [0, 1). Default 0.9.'),
    beta1: z.number().min(0).lt(1).default(0.9).describe('beta1: Adam(W) decay of the first moment, in [0, 1). Default 0.9.'),
    beta2: z.number().min(0).lt(1).default(0.999).describe('beta2: Adam(W) decay of the second moment, in [0, 1). Default 0.999.'),
    epsilon: z.number().positive().default(1e-7).describe('epsilon: Adam(W) denominator guard, > 0. Default 1e-7 (PyTorch uses 1e-8).'),
    weightDecay: z
      .number()
      .min(0)
      .default(0.01)
      .describe('weightDecay: adamw only: each step multiplies a weight by (1 - learningRate · weightDecay) before the Adam update; only weights with two or more dimensions decay (not biases or LayerNorm gains), as nanoGPT. Default 0.01.'),
  })
  .prefault({})
  .describe('optimizer: the update rule applied once per batch. Default: adam with learning rate 0.001.');

const LearningRateScheduleSchema = z
  .strictObject({
    type: z
      .enum(['constant', 'warmupCosine'])
      .default('constant')
      .describe('type: "constant", or "warmupCosine" (linear warm-up to learningRate over warmupSteps, then cosine decay to minLearningRate at the last step). Default "constant".'),
    warmupSteps: z.int().min(0).default(0).describe('warmupSteps: steps of linear warm-up from 0 to learningRate (warmupCosine only). Default 0.'),
    minLearningRate: z.number().min(0).default(0).describe('minLearningRate: learning rate reached at the last step (warmupCosine only), >= 0. Default 0.'),
  })
  .prefault({})
  .describe('learningRateSchedule: how the learning rate changes over the steps. Default: constant.');

const FreezeSchema = z
  .strictObject({
    layers: z
      .int()
      .min(0)
      .max(MAX_LAYERS * MAX_REPEAT)
      .describe('layers: number of leading model layers to freeze, counted as the partitioner counts them: a transformerBlock with repeat N is N layers. Must leave a layer that trains. Required.'),
  })
  .optional()
  .describe('freeze: freeze the first layers of the model (fine-tuning): they keep their weights, get no gradients and no optimizer state, and leading stages with nothing to train run no backward at all. Per layer, trainable: false does the same. Default: nothing frozen.');

/** Largest LoRA rank the schema accepts (the semantic checks also bound it by each adapted matrix). */
export const MAX_LORA_RANK = 1024;

export const LoraTargetSchema = z.enum(['attention', 'mlp', 'dense']);

export const LoraSchema = z
  .strictObject({
    rank: z.int().min(1).max(MAX_LORA_RANK).describe('rank: inner size r of the adapters A [in, r] and B [r, out], >= 1 and at most the smaller side of every adapted matrix. Required.'),
    alpha: z.number().positive().optional().describe('alpha: the adapters add (alpha/rank)·x·A·B to the adapted products, > 0. Default: rank (scale 1).'),
    targets: z
      .array(LoraTargetSchema)
      .min(1)
      .max(3)
      .describe('targets: which products get adapters: "attention" (a transformerBlock\'s qkv and output projections), "mlp" (its two MLP products), "dense" (dense layers\' kernels). Required, at least one; each must match a layer of the model.'),
  })
  .optional()
  .describe('lora: low-rank adapters (fine-tuning): every targeted kernel W gets A (seeded normal, std 0.02) and B (zeros) and computes x·W + (alpha/rank)·x·A·B. The targeted layers\' own weights are frozen (no gradient, no optimizer state); only their adapters train. Other layers follow freeze and trainable. pipetrain export --merge folds the adapters in. Default: no adapters.');

const TrainingObject = z.strictObject({
  steps: z
    .int()
    .min(1)
    .optional()
    .describe('steps: number of optimizer steps (batches) to train. Give steps or epochs, not both.'),
  epochs: z
    .int()
    .min(1)
    .optional()
    .describe('epochs: number of passes over the training samples. Give steps or epochs, not both. Default 1 when neither is given.'),
  optimizer: OptimizerSchema,
  learningRateSchedule: LearningRateScheduleSchema,
  gradientClipNorm: z
    .number()
    .positive()
    .optional()
    .describe('gradientClipNorm: clip gradients so their global L2 norm (over all stages together) is at most this, > 0. Default: no clipping.'),
  freeze: FreezeSchema,
  lora: LoraSchema,
  seed: z.int().min(0).default(1).describe('seed: seed of weight initialization and dropout masks. Default 1.'),
  backend: z
    .enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'])
    .default('auto')
    .describe('backend: TensorFlow.js backend; "auto" picks tensorflow-gpu, then tensorflow, then wasm, then cpu, whichever loads. Default "auto".'),
  logEverySteps: z.int().min(1).default(10).describe('logEverySteps: steps between progress log lines. Default 10.'),
  evalEverySteps: z
    .int()
    .min(1)
    .optional()
    .describe('evalEverySteps: steps between evaluations of the validation loss (and perplexity, for language models), computed across the pipeline, forward only, over the same evalSamples samples each time; the last step is evaluated too. Default: a tokens dataset is evaluated at the last step only; other datasets are not evaluated during training.'),
  evalSamples: z
    .int()
    .min(1)
    .default(128)
    .describe('evalSamples: validation samples in each evaluation: windows at fixed, seeded positions of a tokens dataset\'s val split, or the first samples of the validation set. Default 128.'),
});

export const TrainingSchema = TrainingObject.transform(defaultEpochs)
  .prefault({})
  .describe('training: how long and how the model is optimized. Default: 1 epoch of adam.');

/** `epochs: 1` when neither `steps` nor `epochs` is given, as documented. */
function defaultEpochs<T extends { steps?: number; epochs?: number }>(training: T): T {
  return training.steps === undefined && training.epochs === undefined ? { ...training, epochs: 1 } : training;
}
