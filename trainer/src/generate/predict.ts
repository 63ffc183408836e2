// `pipetrain predict`: one prediction per JSON line, through the checkpoint's model forward
// (forwardModel: the layers' own apply, no dropout, as evaluation).
//   {"input": [...]}   numbers for a model on features (MLP, CNN): nested or flat, spec.model.inputShape values
//                      → {"output": [...]} (the last layer's values) and, for a classifier, {"class": argmax}
//   {"text": "..."}    a language model: the text is tokenized with the checkpoint's tokenizer
//   {"tokens": [ids]}  a language model: token ids
//                      → the next token after the context (cropped to the training window, as generate):
//                        {"context": [ids], "logits": [vocab values], "top": [{token, text, probability}]}
import * as tf from '@tensorflow/tfjs-core';
import type { PipelineJobSpec } from '../api/schema.ts';
import { DataError } from '../data/dataset.ts';
import type { Tokenizer } from '../data/tokenizer.ts';
import { isLanguageModel, type ForwardModel } from './trained-model.ts';

export interface FeaturePrediction {
  line: number;
  output: number[];
  /** Classifiers (a crossentropy loss): the index of the largest output. */
  class?: number;
}

export interface NextTokenPrediction {
  line: number;
  /** The token ids the model saw (the last `window` of the input). */
  context: number[];
  /** Logits of the next token, one per vocabulary entry. */
  logits: number[];
  /** The most likely next tokens, most likely first; probabilities are softmax(logits). */
  top: { token: number; text?: string; probability: number }[];
}

export type Prediction = FeaturePrediction | NextTokenPrediction;

export interface PredictOptions {
  /** The input file, for error messages. */
  file: string;
  /** Entries in `top` (language models). */
  top: number;
  loss: PipelineJobSpec['model']['loss'];
  tokenizer?: Tokenizer;
}

/** Predicts every non-empty line of `text`; a line that does not fit the model is a DataError naming the file and line. */
export function predictLines(model: ForwardModel, text: string, options: PredictOptions): Prediction[] {
  const predictions: Prediction[] = [];
  const language = isLanguageModel(model.layers);
  text.split('\n').forEach((raw, index) => {
    if (raw.trim() === '') return;
    const where = `${options.file} line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new DataError(`${where}: not valid JSON; each line is one object such as ${language ? '{"text": "Call me"} or {"tokens": [3, 1, 4]}' : '{"input": [0.5, 1, ...]}'}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DataError(`${where}: not a JSON object`);
    const line = value as Record<string, unknown>;
    predictions.push(language ? predictNextToken(model, line, index + 1, where, options) : predictFeatures(model, line, index + 1, where, options));
  });
  return predictions;
}

function predictFeatures(model: ForwardModel, line: Record<string, unknown>, lineNumber: number, where: string, options: PredictOptions): FeaturePrediction {
  if (!('input' in line)) throw new DataError(`${where}: has no "input"; this model takes {"input": [${model.inputShape.join(' × ')} numbers]}`);
  const values = [line.input].flat(Infinity);
  const size = model.inputShape.reduce((a, b) => a * b, 1);
  if (!values.every((v) => typeof v === 'number' && Number.isFinite(v))) throw new DataError(`${where}: "input" holds something other than finite numbers`);
  if (values.length !== size) throw new DataError(`${where}: "input" has ${values.length} numbers; the model takes shape [${model.inputShape.join(', ')}], ${size} numbers`);
  const output = tf.tidy(() => {
    const x = tf.tensor(values as number[], [1, ...model.inputShape], 'float32');
    return Array.from(model.forward(x).dataSync());
  });
  const classifier = options.loss === 'categoricalCrossentropy' || options.loss === 'sparseCategoricalCrossentropy';
  return { line: lineNumber, output, ...(classifier ? { class: argMax(output) } : {}) };
}

function predictNextToken(model: ForwardModel, line: Record<string, unknown>, lineNumber: number, where: string, options: PredictOptions): NextTokenPrediction {
  const vocab = (model.layers[0] as { vocabSize?: number }).vocabSize!;
  let ids: number[];
  if (typeof line.text === 'string') {
    if (!options.tokenizer) throw new DataError(`${where}: "text" needs the checkpoint's tokenizer, and it has none; give {"tokens": [ids]}`);
    try {
      ids = options.tokenizer.encode(line.text);
    } catch (error) {
      if (error instanceof DataError) throw new DataError(`${where}: ${error.message}`);
      throw error;
    }
  } else if (Array.isArray(line.tokens)) {
    if (!line.tokens.every((id) => Number.isSafeInteger(id) && id >= 0 && id < vocab)) throw new DataError(`${where}: "tokens" must be integer ids in 0..${vocab - 1}`);
    ids = line.tokens as number[];
  } else {
    throw new DataError(`${where}: has neither "text" (a string) nor "tokens" (ids); this is a language model`);
  }
  if (ids.length === 0) throw new DataError(`${where}: the context is empty; give at least one token`);
  const context = ids.slice(-model.inputShape[0]!);
  const logits = tf.tidy(() => {
    const x = tf.tensor2d(Int32Array.from(context), [1, context.length], 'int32');
    return Array.from(tf.slice(model.forward(x), [0, context.length - 1, 0], [1, 1, -1]).dataSync());
  });
  return { line: lineNumber, context, logits, top: topTokens(logits, options.top, options.tokenizer) };
}

/** The k most likely tokens by softmax(logits), computed in float64. */
function topTokens(logits: number[], k: number, tokenizer: Tokenizer | undefined): NextTokenPrediction['top'] {
  const max = Math.max(...logits);
  const weights = logits.map((v) => Math.exp(v - max));
  const total = weights.reduce((a, b) => a + b, 0);
  const ranked = logits.map((_, id) => id).sort((a, b) => logits[b]! - logits[a]! || a - b).slice(0, k);
  return ranked.map((token) => ({ token, ...(tokenizer ? { text: tokenizer.decode([token]) } : {}), probability: weights[token]! / total }));
}

function argMax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** The readable form: one row per line. */
export function formatPredictions(predictions: readonly Prediction[]): string {
  const rows: string[][] = [];
  for (const p of predictions) {
    if ('output' in p) {
      const shown = p.output.slice(0, 8).map((v) => v.toFixed(4)).join(' ') + (p.output.length > 8 ? ` … (${p.output.length})` : '');
      rows.push([String(p.line), p.class === undefined ? '' : String(p.class), shown]);
    } else {
      rows.push([String(p.line), String(p.context.length), p.top.map((t) => `${t.text === undefined ? `#${t.token}` : JSON.stringify(t.text)} ${(100 * t.probability).toFixed(1)}%`).join('  ')]);
    }
  }
  const header = predictions.length > 0 && 'output' in predictions[0]! ? ['LINE', 'CLASS', 'OUTPUT'] : ['LINE', 'CONTEXT', 'NEXT TOKEN (probability)'];
  const table = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...table.map((r) => r[col]!.length)));
  return table.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ')).join('\n') + '\n';
}
