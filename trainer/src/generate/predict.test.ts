import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { tinyMlpJob } from '../../../test/support/tiny-jobs.ts';
import { DataError } from '../data/dataset.ts';
import { charTokenizer } from '../data/tokenizer.ts';
import { jobLayers } from '../model/expand.ts';
import { buildLayers } from '../model/layers.ts';
import { initBackend } from '../tf/backend.ts';
import { formatPredictions, predictLines, type FeaturePrediction, type NextTokenPrediction } from './predict.ts';
import { forwardModel } from './trained-model.ts';

before(() => initBackend('cpu'));

function weightsOf(model: Parameters<typeof forwardModel>[0], seed: number): Map<string, Float32Array> {
  const layers = buildLayers(model.inputShape, jobLayers({ model }), seed);
  const weights = new Map(layers.flatMap((l) => l.weights).map((w) => [w.name, w.variable.dataSync() as Float32Array]));
  layers.forEach((l) => l.weights.forEach((w) => w.variable.dispose()));
  return weights;
}

test('feature lines: nested or flat input gives the forward pass\'s output and class; bad lines name the file and line', () => {
  const { model } = tinyMlpJob();
  const forward = forwardModel(model, 1, weightsOf(model, 1));
  try {
    const flat = Array.from({ length: 12 }, (_, i) => i / 10);
    const out = predictLines(forward, `${JSON.stringify({ input: flat })}\n\n${JSON.stringify({ input: [flat.slice(0, 6), flat.slice(6)] })}\n`, { file: 'in.jsonl', top: 3, loss: model.loss }) as FeaturePrediction[];
    assert.deepEqual(out.map((p) => p.line), [1, 3], 'empty lines are skipped but counted');
    assert.deepEqual(out[0]!.output, out[1]!.output);
    const expected = tf.tidy(() => Array.from(forward.forward(tf.tensor2d([flat])).dataSync()));
    assert.deepEqual(out[0]!.output, expected);
    assert.equal(out[0]!.class, expected.indexOf(Math.max(...expected)));
    assert.match(formatPredictions(out), /^LINE {2}CLASS {2}OUTPUT\n1 {5}\d {6}0\.\d{4} /);
    const bad = (text: string) => () => predictLines(forward, text, { file: 'in.jsonl', top: 3, loss: model.loss });
    assert.throws(bad('{"input": [1, 2]}'), (e: Error) => e instanceof DataError && e.message === 'in.jsonl line 1: "input" has 2 numbers; the model takes shape [12], 12 numbers');
    assert.throws(bad('\n{oops'), /^Error: in\.jsonl line 2: not valid JSON; each line is one object such as \{"input": \[0\.5, 1, \.\.\.\]\}$/);
    assert.throws(bad('{"text": "hi"}'), /in\.jsonl line 1: has no "input"; this model takes \{"input": \[12 numbers\]\}/);
  } finally {
    forward.dispose();
  }
});

test('language-model lines: text or tokens, cropped to the window, give next-token logits and the top probabilities', () => {
  const vocab = ['a', 'b', 'c', 'd', 'e'];
  const model = {
    inputShape: [4], loss: 'tokenCrossentropy' as const,
    layers: [
      { type: 'embedding' as const, units: 8, vocabSize: 5 }, { type: 'positionalEmbedding' as const, maxLength: 4, dropout: 0 },
      { type: 'transformerBlock' as const, heads: 2, repeat: 1, mlpRatio: 2, dropout: 0, useBias: true },
      { type: 'layerNormalization' as const, epsilon: 1e-5, center: true }, { type: 'lmHead' as const, tied: true, vocabSize: 5 },
    ],
  };
  const forward = forwardModel(model, 2, weightsOf(model, 2));
  try {
    const options = { file: 'p.jsonl', top: 2, loss: model.loss, tokenizer: charTokenizer(vocab) };
    const [text, tokens, long] = predictLines(forward, '{"text": "abc"}\n{"tokens": [0, 1, 2]}\n{"tokens": [4, 4, 0, 1, 2, 3]}', options) as NextTokenPrediction[];
    assert.deepEqual(text!.context, [0, 1, 2]);
    assert.deepEqual(text!.logits, tokens!.logits);
    assert.equal(text!.logits.length, 5);
    assert.deepEqual(long!.context, [0, 1, 2, 3], 'the last window of tokens');
    const best = text!.logits.indexOf(Math.max(...text!.logits));
    assert.deepEqual(text!.top.map((t) => t.token)[0], best);
    assert.equal(text!.top[0]!.text, vocab[best]);
    const sum = text!.logits.reduce((s, v) => s + Math.exp(v), 0);
    assert.ok(Math.abs(text!.top[0]!.probability - Math.exp(text!.logits[best]!) / sum) < 1e-12);
    assert.throws(() => predictLines(forward, '{"text": "xyz"}', options), /^Error: p\.jsonl line 1: char tokenizer: "x" .* is not in the vocabulary/);
    assert.throws(() => predictLines(forward, '{"tokens": [9]}', options), /p\.jsonl line 1: "tokens" must be integer ids in 0\.\.4/);
    assert.match(formatPredictions([text!]), /^LINE {2}CONTEXT {2}NEXT TOKEN \(probability\)\n1 {5}3 {8}"[a-e]" \d+\.\d%/);
  } finally {
    forward.dispose();
  }
});
