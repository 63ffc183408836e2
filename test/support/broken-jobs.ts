// The table of broken job files for load.test.ts: each one with a distinctive part of the message
// (including the field path) that `pipetrain validate` must print for it.
import { BASE_JOB, GPT_JOB, gptYaml, jobYaml } from './spec-jobs.ts';

export interface BrokenJob {
  name: string;
  yaml: string;
  overrides?: string[];
  expect: string;
  line?: number;
}

const softmax = { type: 'dense', units: 10, activation: 'softmax' };
const gptLayers = GPT_JOB.spec.model.layers;
const withLayer = (index: number, fields: Record<string, unknown>) => gptLayers.map((layer, i) => (i === index ? { ...layer, ...fields } : layer));
const conv = { type: 'conv2d', filters: 4, kernelSize: 3 };

export const broken: BrokenJob[] = [
  // YAML syntax
  { name: 'unclosed flow list', yaml: 'apiVersion: pipetrain.io/v1alpha1\nspec:\n  model: {inputShape: [784\n', expect: 'invalid YAML', line: 4 },
  { name: 'duplicate key', yaml: 'kind: PipelineJob\nkind: PipelineJob\n', expect: 'job.yaml:2:1: invalid YAML: Map keys must be unique' },
  { name: 'bad indentation', yaml: 'spec:\n  model:\n    loss: x\n   data: 1\n', expect: 'invalid YAML', line: 4 },
  { name: 'empty file', yaml: '', expect: 'job.yaml is empty; expected a PipelineJob' },
  // Unknown fields, wrong types, missing fields
  { name: 'misspelled section', yaml: jobYaml({ 'spec.pipline': { stages: 2 } }), expect: "spec.pipline: unknown field; did you mean 'pipeline'?" },
  { name: 'misspelled layer field', yaml: jobYaml({ 'spec.model.layers': [{ type: 'dense', unit: 10, activation: 'softmax' }] }), expect: "spec.model.layers[0].unit: unknown field; did you mean 'units'?" },
  { name: 'field of another layer type', yaml: jobYaml({ 'spec.model.layers': [{ type: 'flatten', units: 3 }, softmax] }), expect: 'spec.model.layers[0].units: unknown field; allowed fields: type, name' },
  { name: 'missing required field', yaml: jobYaml({ 'spec.model.loss': undefined }), expect: 'spec.model.loss: required field is missing' },
  { name: 'string instead of integer', yaml: jobYaml({ 'spec.data.batchSize': 'many' }), expect: 'spec.data.batchSize: must be a number, got "many"' },
  { name: 'fraction instead of integer', yaml: jobYaml({ 'spec.pipeline.stages': 1.5 }), expect: 'spec.pipeline.stages: must be an integer, got 1.5' },
  { name: 'object instead of list', yaml: jobYaml({ 'spec.model.layers': { type: 'dense' } }), expect: 'spec.model.layers: must be a list, got an object' },
  { name: 'wrong apiVersion', yaml: jobYaml({ apiVersion: 'v1' }), expect: 'apiVersion: must be "pipetrain.io/v1alpha1", got "v1"' },
  { name: 'invalid name', yaml: jobYaml({ 'metadata.name': 'My_Job' }), expect: 'metadata.name: must consist of lowercase letters' },
  // Ranges
  { name: 'zero micro-batches', yaml: jobYaml({ 'spec.pipeline.microBatches': 0 }), expect: 'spec.pipeline.microBatches: must be >= 1, got 0' },
  { name: 'negative learning rate', yaml: jobYaml({ 'spec.training.optimizer': { learningRate: -0.1 } }), expect: 'spec.training.optimizer.learningRate: must be > 0, got -0.1' },
  { name: 'zero learning rate', yaml: jobYaml({ 'spec.training.optimizer': { learningRate: 0 } }), expect: 'spec.training.optimizer.learningRate: must be > 0, got 0' },
  { name: 'validationSplit of 1', yaml: jobYaml({ 'spec.data.validationSplit': 1 }), expect: 'spec.data.validationSplit: must be < 1, got 1' },
  { name: 'negative validationSplit', yaml: jobYaml({ 'spec.data.validationSplit': -0.2 }), expect: 'spec.data.validationSplit: must be >= 0, got -0.2' },
  { name: 'checkpoint keep 0', yaml: jobYaml({ 'spec.checkpoint': { path: '/ckpt', keep: 0 } }), expect: 'spec.checkpoint.keep: must be >= 1, got 0' },
  { name: 'dropout rate 1', yaml: jobYaml({ 'spec.model.layers': [{ type: 'dropout', rate: 1 }, softmax] }), expect: 'spec.model.layers[0].rate: must be < 1, got 1' },
  { name: 'empty layer list', yaml: jobYaml({ 'spec.model.layers': [] }), expect: 'spec.model.layers: must have at least 1 item(s), got 0' },
  { name: 'metrics port too high', yaml: jobYaml({ 'spec.metricsPort': 70000 }), expect: 'spec.metricsPort: must be <= 65535, got 70000' },
  // Enums and layer types
  { name: 'unknown schedule', yaml: jobYaml({ 'spec.pipeline.schedule': 'interleaved' }), expect: 'spec.pipeline.schedule: must be one of GPipe, 1F1B; got "interleaved"' },
  { name: 'unknown backend', yaml: jobYaml({ 'spec.training.backend': 'webgl' }), expect: 'spec.training.backend: must be one of auto, tensorflow-gpu, tensorflow, wasm, cpu; got "webgl"' },
  { name: 'unknown activation', yaml: jobYaml({ 'spec.model.layers': [{ type: 'dense', units: 10, activation: 'gelu' }] }), expect: 'spec.model.layers[0].activation: must be one of linear, relu, sigmoid, tanh, softmax; got "gelu"' },
  { name: 'unknown layer type', yaml: jobYaml({ 'spec.model.layers': [{ type: 'conv3d' }, softmax] }), expect: `spec.model.layers[0].type: unknown layer type "conv3d" (did you mean 'conv2d'?); allowed layer types: dense, conv2d, maxPooling2d, flatten, dropout, activation, layerNormalization` },
  { name: 'layer without type', yaml: jobYaml({ 'spec.model.layers': [{ units: 3 }, softmax] }), expect: 'spec.model.layers[0].type: required field is missing; allowed layer types: dense' },
  { name: 'unknown dataset type', yaml: jobYaml({ 'spec.data.dataset': { type: 'cifar10' } }), expect: 'spec.data.dataset.type: unknown dataset type "cifar10"; allowed dataset types: mnist, synthetic, file' },
  { name: 'batchNormalization', yaml: jobYaml({ 'spec.model.layers': [{ type: 'batchNormalization' }, softmax] }), expect: 'spec.model.layers[0].type: batchNormalization is not supported: it is not exact under micro-batching' },
  // Semantic rules
  { name: 'more stages than layers', yaml: jobYaml({ 'spec.pipeline.stages': 4 }), expect: 'spec.pipeline.stages: must be <= the number of layers (3), got 4' },
  { name: 'partition not summing to the layer count', yaml: jobYaml({ 'spec.pipeline.stages': undefined, 'spec.pipeline.partition': [1, 1] }), expect: 'spec.pipeline.partition: layer counts must sum to the number of layers (3), got 1 + 1 = 2' },
  { name: 'both stages and partition', yaml: jobYaml({ 'spec.pipeline.partition': [2, 1] }), expect: 'spec.pipeline: give either stages (2) or partition (2 stages), not both' },
  {
    name: 'both a claim and a claim template',
    yaml: jobYaml({ 'spec.checkpoint': { path: '/ckpt', persistentVolumeClaim: { claimName: 'c' }, volumeClaimTemplate: { storage: '1Gi' } } }),
    expect: 'spec.checkpoint: give either persistentVolumeClaim or volumeClaimTemplate, not both',
  },
  {
    name: 'two model sources',
    yaml: jobYaml({ 'spec.model.from': { checkpoint: { path: '/pretrain' }, tfjsLayers: 'model.json' } }),
    expect: 'spec.model.from: give exactly one of checkpoint, tfjsLayers, huggingface; got checkpoint and tfjsLayers',
  },
  {
    name: 'a model source that is the job\'s own checkpoint folder',
    yaml: jobYaml({ 'spec.model.from': { checkpoint: { path: '/ckpt' } }, 'spec.checkpoint': { path: '/ckpt' } }),
    expect: 'spec.model.from.checkpoint.path: is this job\'s own spec.checkpoint.path (/ckpt)',
  },
  { name: 'both steps and epochs', yaml: jobYaml({ 'spec.training.epochs': 3 }), expect: 'spec.training: give either steps (100) or epochs (3), not both' },
  { name: 'batch not divisible into micro-batches', yaml: jobYaml({ 'spec.data.batchSize': 30 }), expect: 'spec.data.batchSize: must be divisible by spec.pipeline.microBatches (4) so micro-batches are equal, got 30' },
  { name: 'conv2d on a rank-1 input', yaml: jobYaml({ 'spec.model.layers': [conv, { type: 'flatten' }, softmax] }), expect: 'spec.model.layers[0]: conv2d needs a rank-3 input [height, width, channels], got [784] (rank 1)' },
  { name: 'kernel larger than the image', yaml: jobYaml({ 'spec.model.inputShape': [2, 2, 196], 'spec.model.layers': [conv, { type: 'flatten' }, softmax] }), expect: 'spec.model.layers[0]: conv2d turns shape [2, 2, 196] into [0, 0, 4], which is empty' },
  { name: 'crossentropy on a rank-3 output', yaml: jobYaml({ 'spec.model.inputShape': [28, 28, 1], 'spec.model.layers': [{ ...conv, padding: 'same' }, softmax] }), expect: 'spec.model.loss: sparseCategoricalCrossentropy needs a rank-1 output per sample (one score per class), but the model outputs [28, 28, 10]' },
  { name: 'crossentropy without softmax', yaml: jobYaml({ 'spec.model.layers': [{ type: 'dense', units: 10 }] }), expect: 'spec.model.layers[0]: sparseCategoricalCrossentropy is computed on probabilities, so the last layer must apply softmax (set activation: softmax, or append {type: activation, activation: softmax}); got activation linear' },
  { name: 'warm-up longer than training', yaml: jobYaml({ 'spec.training.learningRateSchedule': { type: 'warmupCosine', warmupSteps: 500 } }), expect: 'spec.training.learningRateSchedule.warmupSteps: must be <= spec.training.steps (100) for warmupCosine, got 500' },
  { name: 'mnist with the wrong input size', yaml: jobYaml({ 'spec.model.inputShape': [100] }), expect: 'spec.model.inputShape: mnist samples have 784 pixels, e.g. [784] or [28, 28, 1]; got [100]' },
  { name: 'synthetic shape not matching the model', yaml: jobYaml({ 'spec.data.dataset': { type: 'synthetic', featureShape: [8], classes: 10 } }), expect: 'spec.data.dataset.featureShape: must equal spec.model.inputShape [784], got [8]' },
  // A job-file fuzz case: it validated, then `train` failed on it.
  { name: 'batch larger than the synthetic training samples', yaml: jobYaml({ 'spec.data.dataset': { type: 'synthetic', featureShape: [784], classes: 10, samples: 40 }, 'spec.data.validationSplit': 0.5 }), expect: 'spec.data.batchSize: must be <= the 20 training samples of the synthetic dataset (spec.data.dataset.samples 40 less the validation split), got 32' },
  // Language models
  { name: 'heads not dividing the width', yaml: gptYaml({ 'spec.model.layers': withLayer(2, { heads: 3 }) }), expect: 'spec.model.layers[2].heads: heads (3) must divide the model width 8; divisors of 8: 1, 2, 4, 8' },
  { name: 'a tied head without an embedding', yaml: gptYaml({ 'spec.model.inputShape': [16, 8], 'spec.data.dataset': { type: 'synthetic', featureShape: [16, 8], classes: 0 }, 'spec.model.layers': gptLayers.slice(1) }), expect: 'spec.model.layers[3].tied: a tied lmHead shares the embedding matrix, but the model has no embedding layer' },
  { name: 'a window longer than maxLength', yaml: gptYaml({ 'spec.model.inputShape': [32] }), expect: 'spec.model.layers[1].maxLength: the window of 32 tokens (spec.model.inputShape[0]) is longer than maxLength 16' },
  { name: 'a repeated block counted in the partition', yaml: gptYaml({ 'spec.pipeline.stages': undefined, 'spec.pipeline.partition': [2, 2] }), expect: 'spec.pipeline.partition: layer counts must sum to the number of layers (6, each repeated transformerBlock counted), got 2 + 2 = 4' },
  { name: 'an lmHead before the last layer', yaml: gptYaml({ 'spec.model.layers': [...gptLayers, { type: 'dropout', rate: 0.1 }] }), expect: 'spec.model.layers[4]: lmHead must be the last layer' },
  { name: 'a tokens dataset with a classification loss', yaml: gptYaml({ 'spec.model.loss': 'sparseCategoricalCrossentropy' }), expect: 'spec.model.loss: a tokens dataset has a next-token target at every position; use loss tokenCrossentropy' },
  { name: 'tokenCrossentropy without a tokens dataset', yaml: gptYaml({ 'spec.data.dataset': { type: 'mnist' } }), expect: 'spec.data.dataset.type: tokenCrossentropy needs a tokens or sft dataset' },
  { name: 'an sft dataset with a classification loss', yaml: gptYaml({ 'spec.model.loss': 'sparseCategoricalCrossentropy', 'spec.data.dataset': { type: 'sft', path: 'demos.jsonl', tokenizer: { type: 'char' } } }), expect: 'spec.model.loss: an sft dataset has a next-token target at every position; use loss tokenCrossentropy' },
  { name: 'an sft dataset without a tokenizer', yaml: gptYaml({ 'spec.data.dataset': { type: 'sft', path: 'demos.jsonl' } }), expect: 'spec.data.dataset.tokenizer: required field is missing (an object (a mapping))' },
  { name: 'an sft tokenizer folder without a path', yaml: gptYaml({ 'spec.data.dataset': { type: 'sft', path: 'demos.jsonl', tokenizer: { type: 'prepared' } } }), expect: 'spec.data.dataset.tokenizer.path: required field is missing (a string)' },
  { name: 'a tokens dataset without an embedding first', yaml: gptYaml({ 'spec.model.layers': [{ type: 'dense', units: 8 }, ...gptLayers.slice(1, 4), { type: 'lmHead', vocabSize: 10 }] }), expect: 'spec.model.layers[0]: a tokens dataset gives token ids, so the first layer must be an embedding, got dense' },
  { name: 'an embedding without a vocabulary outside tokens data', yaml: gptYaml({ 'spec.model.loss': 'meanSquaredError', 'spec.data.dataset': { type: 'synthetic', featureShape: [16], classes: 0 }, 'spec.model.layers': [gptLayers[0], { type: 'dense', units: 4 }] }), expect: 'spec.model.layers[0].vocabSize: embedding has no vocabSize, and only a tokens dataset provides a default' },
  { name: 'adamw weight decay below zero', yaml: gptYaml({ 'spec.training.optimizer': { type: 'adamw', weightDecay: -1 } }), expect: 'spec.training.optimizer.weightDecay: must be >= 0, got -1' },
  // Freezing (docs/freezing.md)
  { name: 'freezing more layers than the model has', yaml: gptYaml({ 'spec.training.freeze': { layers: 7 } }), expect: 'spec.training.freeze.layers: must be <= the number of layers (6, each repeated transformerBlock counted), got 7' },
  { name: 'freezing every layer', yaml: gptYaml({ 'spec.training.freeze': { layers: 6 } }), expect: 'spec.training.freeze.layers: nothing to train: every layer with weights is frozen' },
  { name: 'every layer trainable: false', yaml: jobYaml({ 'spec.model.layers': BASE_JOB.spec.model.layers.map((layer) => ({ ...layer, trainable: false })) }), expect: 'spec.model.layers: nothing to train: every layer with weights is frozen' },
  // Bad --set overrides
  { name: '--set without a value', yaml: jobYaml(), overrides: ['spec.pipeline.stages'], expect: '--set spec.pipeline.stages: expected PATH=VALUE' },
  { name: '--set past the end of a list', yaml: jobYaml(), overrides: ['spec.model.layers[7].units=4'], expect: '--set spec.model.layers[7].units=4: index 7 is out of range: the list has 3 item(s)' },
  { name: '--set through a scalar', yaml: jobYaml(), overrides: ['spec.pipeline.stages.count=2'], expect: "--set spec.pipeline.stages.count=2: cannot set 'count' inside spec.pipeline.stages" },
  { name: '--set with a malformed path', yaml: jobYaml(), overrides: ['spec..stages=2'], expect: "--set spec..stages=2: cannot read path 'spec..stages'" },
  { name: '--set to a bad value', yaml: jobYaml(), overrides: ['spec.pipeline.microBatches=0'], expect: 'job.yaml: spec.pipeline.microBatches: must be >= 1, got 0 (set with --set)' },
];
