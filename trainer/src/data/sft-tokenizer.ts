// The tokenizer of an sft dataset, and the check that two tokenizers are the same. A fine-tuned
// model must see the ids it was pretrained with: the same char vocabulary in the same order, or
// GPT-2's BPE. `prepared` takes the tokenizer of a prepared tokens folder (its meta.json), `char`
// builds one from the demonstrations' own characters, `gpt2` is GPT-2's.
import { resolve } from 'node:path';
import type { PipelineJobSpec } from '../api/schema.ts';
import { DataError } from './dataset.ts';
import { describeTokenizer } from './token-data.ts';
import { charTokenizer, charVocabulary, gpt2Tokenizer, loadTokenizer, type Tokenizer, type TokenizerSpec } from './tokenizer.ts';
import { readTokenMeta } from './token-shards.ts';

export type SftDatasetSpec = Extract<PipelineJobSpec['data']['dataset'], { type: 'sft' }>;

/** A tokenizer and where it came from, for messages ("the prepared folder data/moby-dick"). */
export interface NamedTokenizer {
  tokenizer: Tokenizer;
  source: string;
}

/**
 * The dataset's tokenizer. `texts` are every prompt and completion of the file: a `char`
 * tokenizer's vocabulary is their characters.
 */
export async function sftTokenizer(dataset: Pick<SftDatasetSpec, 'tokenizer' | 'path'>, baseDir: string, texts: () => Iterable<string>): Promise<NamedTokenizer> {
  const spec = dataset.tokenizer;
  switch (spec.type) {
    case 'prepared': {
      const dir = resolve(baseDir, spec.path);
      const meta = await readTokenMeta(dir);
      return { tokenizer: await loadTokenizer(meta.tokenizer), source: `the prepared folder ${dir}` };
    }
    case 'char':
      return { tokenizer: charTokenizer(charVocabulary(charsOf(texts()))), source: `the characters of ${dataset.path}` };
    case 'gpt2':
      return { tokenizer: await gpt2Tokenizer(), source: 'spec.data.dataset.tokenizer (gpt2)' };
  }
}

function* charsOf(texts: Iterable<string>): Iterable<string> {
  for (const text of texts) yield* text;
}

/** True when both tokenizers give every text the same ids. */
export function sameTokenizer(a: TokenizerSpec, b: TokenizerSpec): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'gpt2' || b.type === 'gpt2') return true;
  return a.vocab.length === b.vocab.length && a.vocab.every((char, i) => char === b.vocab[i]);
}

/**
 * Refuses to go on with a tokenizer other than the one the model was trained with (a checkpoint's
 * model description, a prepared folder's meta.json): the ids would mean other characters or words.
 */
export function checkSameTokenizer(
  expected: { spec: TokenizerSpec; source: string },
  actual: { spec: TokenizerSpec; source: string },
  where = { field: 'spec.data.dataset.tokenizer', fix: "tokenize with the model's own: set spec.data.dataset.tokenizer to {type: prepared, path: <the folder the model was trained on>}" },
): void {
  if (sameTokenizer(expected.spec, actual.spec)) return;
  throw new DataError(
    `${where.field}: the model was trained with the tokenizer of ${expected.source} (${describe(expected.spec)}), but the data is tokenized with that of ${actual.source} (${describe(actual.spec)})${differenceOf(expected.spec, actual.spec)}; ${where.fix}`,
  );
}

function describe(spec: TokenizerSpec): string {
  return describeTokenizer({ tokenizer: spec });
}

/** For two char vocabularies: the first position where they differ. */
function differenceOf(a: TokenizerSpec, b: TokenizerSpec): string {
  if (a.type !== 'char' || b.type !== 'char') return '';
  const length = Math.max(a.vocab.length, b.vocab.length);
  for (let i = 0; i < length; i++) {
    if (a.vocab[i] !== b.vocab[i]) return `; id ${i} is ${JSON.stringify(a.vocab[i] ?? null)} in one and ${JSON.stringify(b.vocab[i] ?? null)} in the other`;
  }
  return '';
}
