// Where a job's starting weights come from (spec.model.from), as one structure whatever the file
// format: the source's layers (as a spec would list them) and its weights by our names
// (`layer<i>_<type>/<suffix>`, i the expanded layer index). A checkpoint, a tfjs-layers model.json
// and a Hugging Face GPT-2 folder each become one of these; matching it onto
// the job's layers (match-layers.ts) does not know which it was.
import type { LayerSpec } from '../api/schema.ts';
import type { ModelSourceKind } from '../api/model-source-schema.ts';
import type { TensorRecord } from '../checkpoint/types.ts';
import { DataError } from '../data/dataset.ts';
import type { TokenizerSpec } from '../data/tokenizer.ts';

/** A source that cannot be used as it is: the message names spec.model.from..., the file and the fix. */
export class ModelSourceError extends DataError {
  override readonly name = 'ModelSourceError';
}

export interface SourceWeights {
  weights: Map<string, TensorRecord>;
  /** Optimizer slots by name (`<weight name>/<slot>`); only a checkpoint has them, and only when asked. */
  slots: Map<string, TensorRecord>;
}

export interface WeightSource {
  kind: ModelSourceKind;
  /** The file or folder read, for messages. */
  where: string;
  /** SHA-256 (hex) of what was read (a checkpoint's commit record, a model.json and its weight files): part of the run's identity. */
  checksum: string;
  /** Shape of one input sample, when the source records it. */
  inputShape?: number[];
  /** The source's layers as spec.model.layers would list them (a repeated block once, with its repeat). */
  layers: LayerSpec[];
  /** The tokenizer the source model was trained with, when it records one: the job's data must use the same. */
  tokenizer?: TokenizerSpec;
  /** A checkpoint's optimizer type and scalars (Adam's beta powers). */
  optimizer?: { type: string; scalars: Record<string, number> };
  /**
   * The weights of the given source layers (expanded indices), and their optimizer slots when
   * `slots`. A checkpoint reads only those layer files, so a stage holds only what it needs.
   */
  read(layerIndices: number[], options?: { slots?: boolean }): Promise<SourceWeights>;
}

/** A source whose weights are all in memory already (a model file read whole): `read` picks from them. */
export function inMemorySource(source: Omit<WeightSource, 'read'>, weights: Map<string, TensorRecord>): WeightSource {
  return {
    ...source,
    read: (layerIndices) => {
      const wanted = new Set(layerIndices);
      const picked = new Map([...weights].filter(([name]) => wanted.has(weightLayerIndex(name) ?? -1)));
      return Promise.resolve({ weights: picked, slots: new Map() });
    },
  };
}

/** `layer3_dense/kernel` → 3; undefined for a name not of that form. */
export function weightLayerIndex(name: string): number | undefined {
  const match = /^layer(\d+)_[A-Za-z0-9]+\//.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** `layer3_dense/kernel` → `kernel`; a transformer block's `layer2_transformerBlock/ln1/gamma` → `ln1/gamma`. */
export function weightSuffix(name: string): string {
  return name.slice(name.indexOf('/') + 1);
}

/** What the run spec hash covers of a source (its path is in spec.model.from already). */
export interface WeightSourceIdentity {
  kind: ModelSourceKind;
  checksum: string;
}

export function sourceIdentity(source: WeightSource): WeightSourceIdentity {
  return { kind: source.kind, checksum: source.checksum };
}
