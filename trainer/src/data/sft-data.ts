// An sft dataset: demonstrations (a JSON Lines file of prompts and completions), tokenized with the
// job's tokenizer into fixed-size samples. A sample is prompt + completion tokens cut to the
// window (spec.model.inputShape[0]) plus one; its input is the first `window` tokens, padded with
// id 0; its target at position j is token j + 1, and its mask is 1 only where that target is a
// completion token (prompt and padding targets are masked). The loss counts the masked-in
// targets only (sft-batches.ts). A demonstration the cut leaves without a completion token is
// skipped and counted (the runner warns); a file where every one is skipped is an error.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { PipelineJobSpec } from '../api/schema.ts';
import { mixSeed, seededPermutation } from '../model/seeds.ts';
import { resolveVocabulary } from '../model/vocabulary.ts';
import { DataError } from './dataset.ts';
import { sftTokenizer, type NamedTokenizer, type SftDatasetSpec } from './sft-tokenizer.ts';
import type { TokenizerSpec } from './tokenizer.ts';

/** Id of the padding after a short sample: any id would do, its targets are masked and attention is causal. */
export const PADDING_ID = 0;

export interface SftSamples {
  count: number;
  window: number;
  /** count × window input ids, sample-major. */
  inputs: Int32Array;
  /** count × window next-token ids (PADDING_ID past the end). */
  targets: Int32Array;
  /** count × window: 1 where the target is a completion token, else 0. */
  mask: Uint8Array;
  /** Per sample: its completion-token targets (the mask's row sum, at least 1). */
  completionTokens: Int32Array;
  /** Per sample: the line of the file it came from (1-based). */
  lines: Int32Array;
}

export interface SftData {
  kind: 'sft';
  /** The demonstrations file, resolved. */
  file: string;
  /** SHA-256 of the file: part of the run's identity, so a resumed run trains on the same demonstrations. */
  sha256: string;
  tokenizer: TokenizerSpec;
  /** Where the tokenizer came from, for messages. */
  tokenizerSource: string;
  vocabSize: number;
  train: SftSamples;
  validation: SftSamples;
  /** Demonstrations with no completion token within the window: skipped. First few line numbers kept for the warning. */
  skipped: { count: number; lines: number[] };
}

export function isSftData(data: object): data is SftData {
  return 'kind' in data && data.kind === 'sft';
}

interface Demonstration {
  line: number;
  prompt: string;
  completion: string;
}

const SKIPPED_LINES_KEPT = 5;

/** Reads, tokenizes and splits the job's demonstrations; `baseDir` resolves relative paths (the job file's folder). */
export async function loadSftData(spec: PipelineJobSpec, baseDir: string): Promise<SftData> {
  const dataset = sftDataset(spec);
  const file = resolve(baseDir, dataset.path);
  const bytes = await readDemonstrationsFile(file);
  const demonstrations = parseDemonstrations(bytes.toString('utf8'), file, dataset);
  const named = await sftTokenizer(dataset, baseDir, () => demonstrations.flatMap((d) => [d.prompt, d.completion]));
  checkStatedVocabulary(spec, named);
  const window = spec.model.inputShape[0]!;
  const { samples, skipped } = buildSamples(demonstrations, named, window, file, dataset);
  if (samples.count === 0) {
    throw new DataError(
      `${file}: none of the ${demonstrations.length} demonstrations has a completion token within the window of ${window} tokens (spec.model.inputShape[0]): every prompt fills it; shorten the prompts or widen the window`,
    );
  }
  const { train, validation } = splitSamples(samples, spec.data.validationSplit, spec.data.shuffle.seed);
  return {
    kind: 'sft', file, sha256: createHash('sha256').update(bytes).digest('hex'), tokenizer: named.tokenizer.spec, tokenizerSource: named.source,
    vocabSize: named.tokenizer.vocabSize, train, validation, skipped,
  };
}

/** The spec with every vocabulary size filled in from the tokenizer (model/vocabulary.ts). */
export function withSftVocabulary(spec: PipelineJobSpec, data: Pick<SftData, 'vocabSize'>): PipelineJobSpec {
  return { ...spec, model: { ...spec.model, layers: resolveVocabulary(spec.model.layers, data.vocabSize) } };
}

function sftDataset(spec: PipelineJobSpec): SftDatasetSpec {
  const dataset = spec.data.dataset;
  if (dataset.type !== 'sft') throw new Error(`not an sft dataset: ${dataset.type}`);
  return dataset;
}

async function readDemonstrationsFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(
      code === 'ENOENT'
        ? `${file}: missing; spec.data.dataset.path names the demonstrations file (JSON Lines, one {"prompt": ..., "completion": ...} per line), relative to the job file's folder`
        : `${file}: unreadable (${code})`,
    );
  }
}

/** One demonstration per non-blank line; any other line is an error naming file:line and the field. */
export function parseDemonstrations(text: string, file: string, fields: Pick<SftDatasetSpec, 'promptField' | 'completionField'>): Demonstration[] {
  const demonstrations: Demonstration[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new DataError(`${file}:${line}: not valid JSON (${(error as Error).message}); each line must be one JSON object such as {"${fields.promptField}": "...", "${fields.completionField}": "..."}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DataError(`${file}:${line}: a demonstration must be a JSON object with "${fields.promptField}" and "${fields.completionField}", got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
    }
    const record = value as Record<string, unknown>;
    demonstrations.push({ line, prompt: stringField(record, fields.promptField, 'promptField', file, line), completion: stringField(record, fields.completionField, 'completionField', file, line) });
  });
  if (demonstrations.length === 0) {
    throw new DataError(`${file}: no demonstrations (the file is empty); write one JSON object per line, such as {"${fields.promptField}": "Q: ...", "${fields.completionField}": " A: ..."}`);
  }
  return demonstrations;
}

function stringField(record: Record<string, unknown>, field: string, setting: string, file: string, line: number): string {
  const value = record[field];
  if (value === undefined) {
    const keys = Object.keys(record);
    throw new DataError(
      `${file}:${line}: no "${field}" field (spec.data.dataset.${setting}); the line has ${keys.length === 0 ? 'no keys' : `the keys ${keys.map((k) => JSON.stringify(k)).join(', ')}`}; add the field, or set ${setting} to the key that holds it`,
    );
  }
  if (typeof value !== 'string') throw new DataError(`${file}:${line}: "${field}" must be a string, got ${value === null ? 'null' : typeof value}`);
  return value;
}

/** A stated vocabSize must be the tokenizer's: ids beyond it would have no embedding row or logit. */
function checkStatedVocabulary(spec: PipelineJobSpec, named: NamedTokenizer): void {
  spec.model.layers.forEach((layer, index) => {
    if ((layer.type !== 'embedding' && layer.type !== 'lmHead') || layer.vocabSize === undefined || layer.vocabSize === named.tokenizer.vocabSize) return;
    throw new DataError(
      `spec.model.layers[${index}].vocabSize: the model has a vocabulary of ${layer.vocabSize} tokens, but the tokenizer of ${named.source} has ${named.tokenizer.vocabSize}; ` +
        'remove vocabSize to use the tokenizer\'s, or set spec.data.dataset.tokenizer to the one the model was trained with',
    );
  });
}

function buildSamples(demonstrations: Demonstration[], named: NamedTokenizer, window: number, file: string, fields: SftDatasetSpec): { samples: SftSamples; skipped: SftData['skipped'] } {
  const kept: { line: number; tokens: number[]; promptLength: number }[] = [];
  const skipped: SftData['skipped'] = { count: 0, lines: [] };
  for (const { line, prompt, completion } of demonstrations) {
    const promptIds = encode(named, prompt, file, line, fields.promptField);
    const completionIds = encode(named, completion, file, line, fields.completionField);
    if (completionTargets(promptIds.length, completionIds.length, window) === 0) {
      skipped.count++;
      if (skipped.lines.length < SKIPPED_LINES_KEPT) skipped.lines.push(line);
      continue;
    }
    kept.push({ line, tokens: [...promptIds, ...completionIds].slice(0, window + 1), promptLength: promptIds.length });
  }
  const count = kept.length;
  const samples: SftSamples = {
    count, window, inputs: new Int32Array(count * window).fill(PADDING_ID), targets: new Int32Array(count * window).fill(PADDING_ID),
    mask: new Uint8Array(count * window), completionTokens: new Int32Array(count), lines: new Int32Array(count),
  };
  kept.forEach(({ line, tokens, promptLength }, i) => {
    const row = i * window;
    let targets = 0;
    for (let j = 0; j < window && j < tokens.length; j++) {
      samples.inputs[row + j] = tokens[j]!;
      if (j + 1 >= tokens.length) continue;
      samples.targets[row + j] = tokens[j + 1]!;
      if (j + 1 >= promptLength) {
        samples.mask[row + j] = 1;
        targets++;
      }
    }
    samples.completionTokens[i] = targets;
    samples.lines[i] = line;
  });
  return { samples, skipped };
}

/**
 * Completion tokens that are targets: the token at index k of prompt + completion is the target
 * of position k − 1, which exists for 1 <= k <= window. (With an empty prompt the first completion
 * token is nobody's target.)
 */
export function completionTargets(promptTokens: number, completionTokens: number, window: number): number {
  return Math.max(0, Math.min(promptTokens + completionTokens - 1, window) - Math.max(promptTokens, 1) + 1);
}

/** A char vocabulary without one of the text's characters names the line, the field and the character. */
function encode(named: NamedTokenizer, text: string, file: string, line: number, field: string): number[] {
  try {
    return named.tokenizer.encode(text);
  } catch (error) {
    if (!(error instanceof DataError) || named.tokenizer.spec.type !== 'char') throw error;
    const known = new Set(named.tokenizer.spec.vocab);
    const missing = [...text].find((char) => !known.has(char)) ?? '';
    const code = `U+${(missing.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    throw new DataError(
      `${file}:${line}: "${field}" has the character ${JSON.stringify(missing)} (${code}), which the char tokenizer of ${named.source} does not have (${known.size} characters); ` +
        'remove or replace it in the demonstrations (the model has no id for it), or prepare the folder from text that has it and train the model on that',
    );
  }
}

/** Holds out floor(count × validationSplit) demonstrations with a seeded permutation, as splitDataset does; both keep file order. */
function splitSamples(samples: SftSamples, validationSplit: number, seed: number): { train: SftSamples; validation: SftSamples } {
  const order = seededPermutation(samples.count, mixSeed(seed, 0x5911d));
  const validationCount = Math.floor(samples.count * validationSplit);
  const validation = Int32Array.from(order.subarray(0, validationCount)).sort();
  const train = Int32Array.from(order.subarray(validationCount)).sort();
  return { train: selectSftSamples(samples, train), validation: selectSftSamples(samples, validation) };
}

export function selectSftSamples(samples: SftSamples, indices: ArrayLike<number>): SftSamples {
  const { window } = samples;
  const count = indices.length;
  const out: SftSamples = {
    count, window, inputs: new Int32Array(count * window), targets: new Int32Array(count * window), mask: new Uint8Array(count * window),
    completionTokens: new Int32Array(count), lines: new Int32Array(count),
  };
  for (let i = 0; i < count; i++) {
    const source = indices[i]!;
    const from = source * window;
    out.inputs.set(samples.inputs.subarray(from, from + window), i * window);
    out.targets.set(samples.targets.subarray(from, from + window), i * window);
    out.mask.set(samples.mask.subarray(from, from + window), i * window);
    out.completionTokens[i] = samples.completionTokens[source]!;
    out.lines[i] = samples.lines[source]!;
  }
  return out;
}

