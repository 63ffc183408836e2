// A tokens dataset: the prepared folder's meta.json and its two splits, held as the token arrays
// themselves (2 or 4 bytes per token). Windows are cut from them on demand (token-plan.ts), never
// materialised. Reading also settles the model's vocabulary: embedding.vocabSize defaults to the
// data's, and a size stated in the job must equal it.
import { resolve } from 'node:path';
import { resolveVocabulary } from '../model/vocabulary.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import { DataError } from './dataset.ts';
import { readTokenMeta, readTokenSplit, type TokenArray, type TokenMeta } from './token-shards.ts';

export interface TokenData {
  kind: 'tokens';
  /** The prepared folder, resolved. */
  dir: string;
  meta: TokenMeta;
  train: TokenArray;
  val: TokenArray;
}

export type TokensDatasetSpec = Extract<PipelineJobSpec['data']['dataset'], { type: 'tokens' }>;

/** The folder of a tokens dataset. (When `prepare` settings join the dataset, they are applied here, before anything reads the folder.) */
export function tokenFolder(dataset: TokensDatasetSpec, baseDir: string): string {
  return resolve(baseDir, dataset.path);
}

/** meta.json only, checked against the model: enough to resolve the vocabulary and plan the partition. */
export async function readTokenDataMeta(spec: PipelineJobSpec, baseDir: string): Promise<{ dir: string; meta: TokenMeta }> {
  const dir = tokenFolder(tokensDataset(spec), baseDir);
  const meta = await readTokenMeta(dir);
  checkVocabulary(spec, meta, dir);
  return { dir, meta };
}

/** meta.json and every shard, verified. */
export async function loadTokenData(spec: PipelineJobSpec, baseDir: string): Promise<TokenData> {
  const { dir, meta } = await readTokenDataMeta(spec, baseDir);
  const [train, val] = await Promise.all([readTokenSplit(dir, meta, 'train'), readTokenSplit(dir, meta, 'val')]);
  return { kind: 'tokens', dir, meta, train, val };
}

/** The spec with every vocabulary size filled in from the data (model/vocabulary.ts). */
export function withDataVocabulary(spec: PipelineJobSpec, meta: TokenMeta): PipelineJobSpec {
  return { ...spec, model: { ...spec.model, layers: resolveVocabulary(spec.model.layers, meta.vocabSize) } };
}

/** A vocabulary stated in the job must be the data's: ids beyond it would have no embedding row or logit. */
export function checkVocabulary(spec: PipelineJobSpec, meta: TokenMeta, dir: string): void {
  spec.model.layers.forEach((layer, index) => {
    if ((layer.type !== 'embedding' && layer.type !== 'lmHead') || layer.vocabSize === undefined || layer.vocabSize === meta.vocabSize) return;
    throw new DataError(
      `spec.model.layers[${index}].vocabSize: the model has a vocabulary of ${layer.vocabSize} tokens, but the data prepared in ${dir} has ${meta.vocabSize} ` +
        `(${describeTokenizer(meta)}); remove vocabSize to use the data's, or prepare the data with the tokenizer the model is meant for`,
    );
  });
}

export function describeTokenizer(meta: Pick<TokenMeta, 'tokenizer'>): string {
  return meta.tokenizer.type === 'char' ? `char tokenizer, ${meta.tokenizer.vocab.length} characters` : 'GPT-2 BPE tokenizer';
}

function tokensDataset(spec: PipelineJobSpec): TokensDatasetSpec {
  const dataset = spec.data.dataset;
  if (dataset.type !== 'tokens') throw new Error(`not a tokens dataset: ${dataset.type}`);
  return dataset;
}
