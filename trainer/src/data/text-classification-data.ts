// A textClassification dataset: labelled texts (a JSON Lines file), tokenized with the job's
// tokenizer (as an sft dataset's) into samples of spec.model.inputShape[0] token ids. A text keeps
// its first `window` tokens and a shorter one is padded on the left with PADDING_ID, so the last
// position, the one a classificationHead reads, is always the last kept token. Samples are an
// ordinary Dataset (ids as float32, exact below 2^24; labels as class indices), so batching,
// shuffling, the validation split and accuracy are those of every sample dataset.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { PipelineJobSpec } from '../api/schema.ts';
import { resolveVocabulary } from '../model/vocabulary.ts';
import { DataError, type SplitDataset } from './dataset.ts';
import { splitDataset } from './plan.ts';
import { PADDING_ID } from './sft-data.ts';
import { sftTokenizer, type NamedTokenizer } from './sft-tokenizer.ts';

export type TextClassificationSpec = Extract<PipelineJobSpec['data']['dataset'], { type: 'textClassification' }>;

interface LabelledText {
  line: number;
  text: string;
  label: number;
}

export interface TextClassificationData {
  spec: PipelineJobSpec;
  data: SplitDataset;
  /** Characters dropped (unknownCharacters: drop), for a note. */
  dropped: number;
}

/** Reads, tokenizes and splits the job's labelled texts; the spec comes back with the tokenizer's vocabulary filled in. */
export async function loadTextClassification(spec: PipelineJobSpec, baseDir: string): Promise<TextClassificationData> {
  const dataset = textClassificationDataset(spec);
  const file = resolve(baseDir, dataset.path);
  const classes = headClasses(spec, dataset);
  const texts = parseLabelledTexts(await readTextsFile(file), file, dataset, classes);
  const named = await sftTokenizer(dataset, baseDir, () => texts.map((t) => t.text));
  const window = spec.model.inputShape[0]!;
  const features = new Float32Array(texts.length * window).fill(PADDING_ID);
  const labels = new Float32Array(texts.length);
  let dropped = 0;
  texts.forEach(({ line, text, label }, i) => {
    const encoded = encodeText(named, text, file, line, dataset);
    dropped += encoded.dropped;
    const kept = encoded.ids.slice(0, window);
    features.set(kept, (i + 1) * window - kept.length);
    labels[i] = label;
  });
  const all = { features, featureShape: [window], labels, labelShape: [], count: texts.length, classes };
  const withVocabulary = { ...spec, model: { ...spec.model, layers: resolveVocabulary(spec.model.layers, named.tokenizer.vocabSize) } };
  return { spec: withVocabulary, data: splitDataset(all, spec.data.validationSplit, spec.data.shuffle.seed), dropped };
}

function textClassificationDataset(spec: PipelineJobSpec): TextClassificationSpec {
  const dataset = spec.data.dataset;
  if (dataset.type !== 'textClassification') throw new Error(`not a textClassification dataset: ${dataset.type}`);
  return dataset;
}

/** The classes of the model's classificationHead; declared labels must be as many. */
function headClasses(spec: PipelineJobSpec, dataset: TextClassificationSpec): number {
  const head = spec.model.layers.at(-1);
  if (head?.type !== 'classificationHead') {
    throw new DataError(`spec.model.layers: a textClassification dataset needs a classificationHead as the last layer, got ${head?.type ?? 'none'}; append {type: classificationHead, classes: <number of labels>}`);
  }
  if (dataset.labels && dataset.labels.length !== head.classes) {
    throw new DataError(`spec.data.dataset.labels: ${dataset.labels.length} labels, but the classificationHead has ${head.classes} classes; make them equal`);
  }
  return head.classes;
}

async function readTextsFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(
      code === 'ENOENT'
        ? `${file}: missing; spec.data.dataset.path names the labelled texts (JSON Lines, one {"text": ..., "label": ...} per line), relative to the job file's folder`
        : `${file}: unreadable (${code})`,
    );
  }
}

/** One labelled text per non-blank line; anything else is an error naming file:line. */
export function parseLabelledTexts(content: string, file: string, dataset: Pick<TextClassificationSpec, 'textField' | 'labelField' | 'labels'>, classes: number): LabelledText[] {
  const texts: LabelledText[] = [];
  content.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new DataError(`${file}:${line}: not valid JSON (${(error as Error).message}); each line must be one JSON object such as {"${dataset.textField}": "...", "${dataset.labelField}": 0}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DataError(`${file}:${line}: a labelled text must be a JSON object with "${dataset.textField}" and "${dataset.labelField}", got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
    }
    const record = value as Record<string, unknown>;
    texts.push({ line, text: textOf(record, dataset.textField, file, line), label: labelOf(record, dataset, classes, file, line) });
  });
  if (texts.length === 0) throw new DataError(`${file}: no labelled texts (the file is empty); write one JSON object per line, such as {"${dataset.textField}": "...", "${dataset.labelField}": 0}`);
  return texts;
}

function field(record: Record<string, unknown>, name: string, setting: string, file: string, line: number): unknown {
  const value = record[name];
  if (value !== undefined) return value;
  const keys = Object.keys(record);
  throw new DataError(
    `${file}:${line}: no "${name}" field (spec.data.dataset.${setting}); the line has ${keys.length === 0 ? 'no keys' : `the keys ${keys.map((k) => JSON.stringify(k)).join(', ')}`}; add the field, or set ${setting} to the key that holds it`,
  );
}

function textOf(record: Record<string, unknown>, name: string, file: string, line: number): string {
  const value = field(record, name, 'textField', file, line);
  if (typeof value !== 'string') throw new DataError(`${file}:${line}: "${name}" must be a string, got ${value === null ? 'null' : typeof value}`);
  return value;
}

function labelOf(record: Record<string, unknown>, dataset: Pick<TextClassificationSpec, 'labelField' | 'labels'>, classes: number, file: string, line: number): number {
  const value = field(record, dataset.labelField, 'labelField', file, line);
  if (dataset.labels) {
    const index = typeof value === 'string' ? dataset.labels.indexOf(value) : -1;
    if (index < 0) throw new DataError(`${file}:${line}: the label ${JSON.stringify(value)} is not one of spec.data.dataset.labels (${dataset.labels.map((l) => JSON.stringify(l)).join(', ')}); add it, or fix the line`);
    return index;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= classes) {
    throw new DataError(`${file}:${line}: the label ${JSON.stringify(value)} must be an integer class 0..${classes - 1} (the classificationHead's classes); for names, declare them in spec.data.dataset.labels`);
  }
  return value;
}

/** A char tokenizer without one of the text's characters: an error naming file:line, or the character dropped. */
function encodeText(named: NamedTokenizer, text: string, file: string, line: number, dataset: TextClassificationSpec): { ids: number[]; dropped: number } {
  const spec = named.tokenizer.spec;
  if (spec.type !== 'char') return { ids: named.tokenizer.encode(text), dropped: 0 };
  const known = new Set(spec.vocab);
  const chars = [...text];
  const missing = chars.find((char) => !known.has(char));
  if (missing === undefined) return { ids: named.tokenizer.encode(text), dropped: 0 };
  if (dataset.unknownCharacters === 'drop') {
    const kept = chars.filter((char) => known.has(char));
    return { ids: named.tokenizer.encode(kept.join('')), dropped: chars.length - kept.length };
  }
  const code = `U+${(missing.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  throw new DataError(
    `${file}:${line}: "${dataset.textField}" has the character ${JSON.stringify(missing)} (${code}), which the char tokenizer of ${named.source} does not have (${known.size} characters); ` +
      'remove or replace it, or set spec.data.dataset.unknownCharacters: drop',
  );
}
