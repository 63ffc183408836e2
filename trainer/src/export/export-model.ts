// `pipetrain export`: a committed checkpoint's model as files other tools load.
//   tfjs-layers  model.json + weights.bin (tf.loadLayersModel), for models of layers tfjs-layers has
//   safetensors  model.safetensors (F32, our weight names) + config.json (the job's spec.model)
//   huggingface  config.json + model.safetensors (+ vocab.json) as GPT2LMHeadModel.from_pretrained loads, GPT models only
// Every format carries the same metadata: job, step, the checkpoint's commit checksum, pipetrain's
// version. Everything is encoded in memory first, then written all or nothing (output-folder.ts).
// A LoRA checkpoint's adapters are merged with --merge, or kept as tensors of their own (safetensors
// only; lora-export.ts); its metadata then also names the adapters and checksums the base.
import type { CheckpointedModel } from '../generate/checkpoint-model.ts';
import { FormatError } from '../formats/format-error.ts';
import { encodeHuggingfaceGpt2 } from '../formats/huggingface.ts';
import { encodeSafetensors } from '../formats/safetensors.ts';
import { encodeTfjsLayers, WEIGHTS_FILE, type LayersAndWeights } from '../formats/tfjs-layers.ts';
import { jobLayers } from '../model/expand.ts';
import { loraLayers, loraMetadata } from './lora-export.ts';
import { PIPETRAIN_VERSION } from '../version.ts';
import type { OutputFile } from './output-folder.ts';

export const EXPORT_FORMATS = ['tfjs-layers', 'safetensors', 'huggingface'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const SAFETENSORS_WEIGHTS = 'model.safetensors';
export const SAFETENSORS_CONFIG = 'config.json';
export const TFJS_MODEL = 'model.json';

/** Where an export came from. Strings, so that every format (safetensors' __metadata__ too) holds them alike. */
export interface ExportMetadata extends Record<string, string> {
  job: string;
  step: string;
  /** SHA-256 of the step's COMMITTED.json. */
  checkpointSha256: string;
  pipetrainVersion: string;
}

export interface ExportOptions {
  /** Fold LoRA adapters into the base weights (a checkpoint without adapters is unchanged). */
  merge?: boolean;
}

export function exportMetadata(checkpoint: CheckpointedModel, options: ExportOptions = {}): ExportMetadata {
  return {
    job: checkpoint.jobName, step: String(checkpoint.step), checkpointSha256: checkpoint.commitSha256, pipetrainVersion: PIPETRAIN_VERSION,
    ...loraMetadata(checkpoint, options.merge === true),
  };
}

/** The checkpoint's model as the formats take it: layers expanded, each with its weights (LoRA adapters as `format` and --merge want them). */
export function checkpointLayers(checkpoint: CheckpointedModel, format: ExportFormat = 'safetensors', options: ExportOptions = {}): LayersAndWeights {
  const { model } = checkpoint.description;
  const layers = jobLayers({ model });
  if (layers.length !== checkpoint.layers.length) throw new FormatError(`${checkpoint.dir}: checkpoint step ${checkpoint.step} has ${checkpoint.layers.length} layer files, its model ${layers.length} layers`);
  return { inputShape: model.inputShape, layers, weights: loraLayers(checkpoint, format, options.merge === true) };
}

/** Encodes the checkpoint in `format`; a model the format cannot hold is a FormatError naming the checkpoint and the layer. */
export async function exportFiles(checkpoint: CheckpointedModel, format: ExportFormat, options: ExportOptions = {}): Promise<OutputFile[]> {
  const metadata = exportMetadata(checkpoint, options);
  try {
    const model = checkpointLayers(checkpoint, format, options);
    switch (format) {
      case 'tfjs-layers': {
        const { modelJson, weightsBin } = await encodeTfjsLayers(model, metadata);
        return [{ name: TFJS_MODEL, bytes: Buffer.from(`${JSON.stringify(modelJson)}\n`) }, { name: WEIGHTS_FILE, bytes: weightsBin }];
      }
      case 'safetensors': {
        const { tokenizer, lora } = checkpoint.description;
        // Unmerged adapters travel as tensors of their own: config.json says how to apply them.
        const adapters = lora && options.merge !== true ? { lora } : {};
        const config = { model: checkpoint.description.model, ...(tokenizer ? { tokenizer } : {}), ...adapters, pipetrain: metadata };
        return [
          { name: SAFETENSORS_WEIGHTS, bytes: encodeSafetensors(model.weights.flat(), { format: 'pt', ...metadata }) },
          { name: SAFETENSORS_CONFIG, bytes: Buffer.from(`${JSON.stringify(config, null, 2)}\n`) },
        ];
      }
      case 'huggingface':
        return encodeHuggingfaceGpt2(model, { metadata, tokenizer: checkpoint.description.tokenizer });
    }
  } catch (error) {
    if (error instanceof FormatError) throw new FormatError(`${checkpoint.dir}: checkpoint step ${checkpoint.step}: ${error.message}`);
    throw error;
  }
}
