// Exporting a LoRA checkpoint (spec.training.lora): it holds the frozen base weights and the
// adapters `<kernel>/lora_a`, `/lora_b`. With --merge they are folded into the base
// (W + (alpha/rank)·A·B, model/lora.ts) and every format works; without it only safetensors can
// carry them, as tensors of their own next to the base, and the other formats ask for --merge.
import { createHash } from 'node:crypto';
import type { TensorRecord } from '../checkpoint/index.ts';
import type { CheckpointedModel } from '../generate/checkpoint-model.ts';
import { FormatError } from '../formats/format-error.ts';
import { isAdapterName, mergeAdapters } from '../model/lora.ts';

export type LoraFormat = 'tfjs-layers' | 'safetensors' | 'huggingface';

/** The checkpoint's layers as `format` gets them: adapters merged, kept (safetensors) or refused. */
export function loraLayers(checkpoint: CheckpointedModel, format: LoraFormat, merge: boolean): TensorRecord[][] {
  const { lora } = checkpoint.description;
  if (!lora) return checkpoint.layers;
  if (merge) return checkpoint.layers.map((weights) => mergedLayer(weights, lora));
  if (format === 'safetensors') return checkpoint.layers;
  throw new FormatError(`the checkpoint holds LoRA adapters (spec.training.lora, rank ${lora.rank}), which ${format} has no place for; add --merge to fold them into the base weights (W + alpha/rank·A·B), or export --format safetensors to keep them as tensors of their own`);
}

function mergedLayer(weights: TensorRecord[], lora: NonNullable<CheckpointedModel['description']['lora']>): TensorRecord[] {
  const merged = mergeAdapters(new Map(weights.map((w) => [w.name, { data: w.data, shape: w.shape }])), lora);
  return [...merged].map(([name, record]) => ({ name, shape: [...record.shape], data: record.data }));
}

/**
 * What an export of a LoRA checkpoint adds to its metadata: the adapters' spec, whether they were
 * merged, where the base came from (spec.model.from, also in the run hash) and the SHA-256 of the
 * base the adapters sit on: the own weights of the adapted layers (names, shapes and float32 bytes,
 * in model order), which training never changes. Layers LoRA does not adapt may train, and are
 * not part of it.
 */
export function loraMetadata(checkpoint: CheckpointedModel, merge: boolean): Record<string, string> {
  const { lora, baseFrom } = checkpoint.description;
  if (!lora) return {};
  return {
    lora: JSON.stringify(lora),
    loraMerged: String(merge),
    baseSha256: baseWeightsSha256(checkpoint.layers),
    ...(baseFrom !== undefined ? { baseFrom: JSON.stringify(baseFrom) } : {}),
  };
}

export function baseWeightsSha256(layers: readonly TensorRecord[][]): string {
  const hash = createHash('sha256');
  const adapted = layers.filter((weights) => weights.some((w) => isAdapterName(w.name)));
  for (const weight of adapted.flat()) {
    if (isAdapterName(weight.name)) continue;
    hash.update(`${weight.name}\n${weight.shape.join(',')}\n`);
    hash.update(Buffer.from(weight.data.buffer, weight.data.byteOffset, weight.data.byteLength));
  }
  return hash.digest('hex');
}
