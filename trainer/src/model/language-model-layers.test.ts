// The GPT layers: gradients against central finite differences (float32, so loose tolerances),
// causal masking, nanoGPT's initialisation, and the tied head's copy of the embedding.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { LayerSchema } from '../api/model-schema.ts';
import type { LayerSpec } from '../api/schema.ts';
import { initBackend } from '../tf/backend.ts';
import { tokenCrossentropy } from '../train/loss.ts';
import { expandLayers } from './expand.ts';
import { buildLayers, type ApplyContext, type Layer } from './layers.ts';
import { seededRandom } from './seeds.ts';

const layer = (fields: Record<string, unknown>): LayerSpec => LayerSchema.parse(fields);
const train: ApplyContext = { training: true, seed: 7, step: 3, microBatch: 1 };
const VOCAB = 11;
const TOKENS = 5;
const WIDTH = 8;

before(async () => {
  await initBackend('cpu');
});

function ids(batch: number, seed: number): tf.Tensor {
  const random = seededRandom(seed);
  return tf.tensor2d(Array.from({ length: batch * TOKENS }, () => Math.floor(random() * VOCAB)), [batch, TOKENS], 'int32');
}

/**
 * Compares tf's gradient of sum(f() · r) (r fixed random) with central differences, for a few
 * seeded coordinates of every variable. Central differences in float32 with step h = 1e-2 are
 * good to about 1e-3 here; a wrong gradient is off by far more.
 */
function checkGradients(name: string, f: () => tf.Tensor, variables: tf.Variable[]): void {
  const probe = tf.tidy(f);
  const weights = tf.randomUniform(probe.shape, -1, 1, 'float32', 9);
  probe.dispose();
  const objective = () => tf.tidy(() => tf.sum(tf.mul(f(), weights)) as tf.Scalar);
  const { grads } = tf.variableGrads(objective, variables);
  const random = seededRandom(5);
  const h = 1e-2;
  for (const variable of variables) {
    const analytic = grads[variable.name]!.dataSync();
    const original = Float32Array.from(variable.dataSync() as Float32Array);
    const at = (i: number, delta: number) => {
      const moved = Float32Array.from(original);
      moved[i] = moved[i]! + delta;
      variable.assign(tf.tensor(moved, variable.shape));
      const value = objective();
      const result = value.dataSync()[0]!;
      value.dispose();
      return result;
    };
    for (let sample = 0; sample < 6; sample++) {
      const i = Math.floor(random() * original.length);
      const numeric = (at(i, h) - at(i, -h)) / (2 * h);
      const tolerance = 2e-3 + 2e-2 * Math.abs(numeric);
      assert.ok(Math.abs(numeric - analytic[i]!) <= tolerance, `${name}: ${variable.name}[${i}]: tf ${analytic[i]}, finite differences ${numeric}`);
    }
    variable.assign(tf.tensor(original, variable.shape));
  }
  tf.dispose([weights, ...Object.values(grads)]);
}

function build(specs: LayerSpec[], inputShape = [TOKENS]): Layer[] {
  return buildLayers(inputShape, expandLayers(specs).layers, 1);
}

function dispose(layers: Layer[]): void {
  layers.forEach((l) => l.weights.forEach((w) => w.variable.dispose()));
}

const gptSpecs = (tied: boolean, useBias = false): LayerSpec[] => [
  layer({ type: 'embedding', units: WIDTH, vocabSize: VOCAB }),
  layer({ type: 'positionalEmbedding', maxLength: 8, dropout: 0.1 }),
  layer({ type: 'transformerBlock', heads: 2, repeat: 2, mlpRatio: 2, dropout: 0.1, useBias }),
  layer({ type: 'layerNormalization', epsilon: 1e-5, center: useBias }),
  layer({ type: 'lmHead', tied, vocabSize: VOCAB }),
];

test('embedding, positional embedding and lmHead gradients match finite differences', () => {
  const [embedding, positional, , , head] = build(gptSpecs(false));
  const tokens = ids(2, 1);
  checkGradients('embedding', () => embedding!.apply(tokens, train), embedding!.weights.map((w) => w.variable));
  const x = tf.variable(tf.randomNormal([2, TOKENS, WIDTH], 0, 1, 'float32', 2));
  checkGradients('positionalEmbedding', () => positional!.apply(x, train), [x, ...positional!.weights.map((w) => w.variable)]);
  checkGradients('lmHead', () => head!.apply(x, train), [x, ...head!.weights.map((w) => w.variable)]);
  const [, , , , tiedHead] = build(gptSpecs(true));
  checkGradients('tied lmHead', () => tiedHead!.apply(x, train), [x, ...tiedHead!.weights.map((w) => w.variable)]);
});

test('classificationHead reads the last position only; its gradients match finite differences', () => {
  const [head] = buildLayers([TOKENS, WIDTH], [layer({ type: 'classificationHead', classes: 3 })], 1);
  assert.deepEqual(head!.weights.map((w) => w.name), ['layer0_classificationHead/kernel', 'layer0_classificationHead/bias']);
  const x = tf.variable(tf.randomNormal([2, TOKENS, WIDTH], 0, 1, 'float32', 2));
  const probabilities = head!.apply(x, train);
  assert.deepEqual(probabilities.shape, [2, 3]);
  tf.sum(probabilities, 1).dataSync().forEach((total) => assert.ok(Math.abs(total - 1) < 1e-6, 'softmax probabilities'));
  // Changing any earlier position leaves the output unchanged, bit for bit; the last one changes it.
  const moved = (position: number) => tf.add(x, tf.oneHot(tf.tensor1d([position], 'int32'), TOKENS).reshape([1, TOKENS, 1]));
  assert.deepEqual(head!.apply(moved(0), train).dataSync(), probabilities.dataSync());
  assert.notDeepEqual(head!.apply(moved(TOKENS - 1), train).dataSync(), probabilities.dataSync());
  checkGradients('classificationHead', () => head!.apply(x, train), [x, ...head!.weights.map((w) => w.variable)]);
  dispose([head!]);
});

test('transformerBlock gradients match finite differences, with and without biases, dropout on', () => {
  for (const useBias of [true, false]) {
    const blocks = build(gptSpecs(false, useBias)).filter((l) => l.spec.type === 'transformerBlock');
    const block = blocks[0]!;
    assert.equal(block.weights.length, useBias ? 12 : 6);
    const x = tf.variable(tf.randomNormal([2, TOKENS, WIDTH], 0, 1, 'float32', 3));
    checkGradients(`transformerBlock useBias ${useBias}`, () => block.apply(x, train), [x, ...block.weights.map((w) => w.variable)]);
  }
});

test('tokenCrossentropy gradient matches finite differences and equals softmax − one-hot', () => {
  const logits = tf.variable(tf.randomNormal([2, TOKENS, VOCAB], 0, 2, 'float32', 4));
  const targets = ids(2, 6);
  checkGradients('tokenCrossentropy', () => tokenCrossentropy(logits, targets), [logits]);
  const { grads } = tf.variableGrads(() => tf.sum(tokenCrossentropy(logits, targets)) as tf.Scalar, [logits]);
  const expected = tf.sub(tf.softmax(logits), tf.oneHot(targets as tf.Tensor2D, VOCAB));
  assert.ok(tf.max(tf.abs(tf.sub(grads[logits.name]!, expected))).dataSync()[0]! < 1e-6);
  // Stable for extreme logits, where softmax then log would give log(0) = -Infinity.
  const extreme = tf.tensor3d([[[1000, -1000, 0]]]);
  assert.deepEqual(Array.from(tokenCrossentropy(extreme, tf.tensor2d([[1]], [1, 1], 'int32')).dataSync()), [2000]);
});

test('attention is causal: changing a future token changes no earlier position, bit for bit', () => {
  const layers = build(gptSpecs(true, true));
  const run = (tokens: tf.Tensor) => layers.reduce((h, l) => l.apply(h, { ...train, training: false }), tokens).arraySync() as number[][][];
  const original = ids(1, 8);
  const values = original.arraySync() as number[][];
  const changedAt = 3;
  values[0]![changedAt] = (values[0]![changedAt]! + 1) % VOCAB;
  const before = run(original);
  const after = run(tf.tensor2d(values, [1, TOKENS], 'int32'));
  for (let position = 0; position < TOKENS; position++) {
    const same = before[0]![position]!.every((v, i) => Object.is(v, after[0]![position]![i]));
    assert.equal(same, position < changedAt, `position ${position}: ${same ? 'unchanged' : 'changed'}`);
  }
  dispose(layers);
});

test('initialisation follows nanoGPT and does not depend on which layers are built', () => {
  const specs = expandLayers([...gptSpecs(true)]).layers;
  const all = buildLayers([TOKENS], specs, 1);
  const std = (data: Float32Array) => Math.sqrt(data.reduce((s, v) => s + v * v, 0) / data.length);
  const byName = new Map(all.flatMap((l) => l.weights).map((w) => [w.name, w.variable.dataSync() as Float32Array]));
  // Small tensors: allow sampling error.
  assert.ok(Math.abs(std(byName.get('layer2_transformerBlock/mlp/fc/kernel')!) - 0.02) < 0.004);
  const residual = 0.02 / Math.sqrt(2 * 2); // two blocks
  assert.ok(Math.abs(std(byName.get('layer3_transformerBlock/mlp/projection/kernel')!) - residual) < 0.003);
  assert.ok(byName.get('layer2_transformerBlock/ln1/gamma')!.every((v) => v === 1));
  // The tied head holds a copy of the embedding, named like it and bit-identical.
  const head = all.at(-1)!;
  assert.equal(head.weights[0]!.tiedCopy, true);
  assert.equal(head.weights[0]!.name, 'layer0_embedding/embeddings');
  assert.deepEqual(head.weights[0]!.variable.dataSync(), all[0]!.weights[0]!.variable.dataSync());
  // Block 1 built alone (as on a later stage) starts with the same weights as in the whole model.
  const alone = buildLayers([TOKENS], specs, 1, 3, 4);
  alone[0]!.weights.forEach((w, i) => assert.deepEqual(w.variable.dataSync(), all[3]!.weights[i]!.variable.dataSync(), w.name));
  dispose([...all, ...alone]);
});
