import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inferLayerShapes, ShapeError, windowOutput } from './shapes.ts';
import type { LayerSpec } from '../api/schema.ts';
import { LayerSchema } from '../api/model-schema.ts';

const dense = (units: number, useBias = true): LayerSpec => ({ type: 'dense', units, activation: 'linear', useBias });
const conv = (filters: number, kernelSize: number, strides = 1, padding: 'valid' | 'same' = 'valid'): LayerSpec => ({
  type: 'conv2d', filters, kernelSize, strides, padding, activation: 'relu', useBias: true,
});

void test('MLP shapes and parameter counts', () => {
  const { outputShapes, parameterCounts } = inferLayerShapes([784], [dense(128), { type: 'dropout', rate: 0.2 }, dense(10, false)]);
  assert.deepEqual(outputShapes, [[128], [128], [10]]);
  assert.deepEqual(parameterCounts, [784 * 128 + 128, 0, 1280]);
});

void test('small CNN follows TensorFlow padding and pooling rules', () => {
  const layers: LayerSpec[] = [
    conv(8, 3),
    { type: 'maxPooling2d', poolSize: 2, padding: 'valid' },
    conv(16, 3, 2, 'same'),
    { type: 'flatten' },
    { type: 'layerNormalization', epsilon: 1e-3, center: true },
    dense(10),
  ];
  const { outputShapes, parameterCounts } = inferLayerShapes([28, 28, 1], layers);
  assert.deepEqual(outputShapes, [[26, 26, 8], [13, 13, 8], [7, 7, 16], [784], [784], [10]]);
  assert.deepEqual(parameterCounts, [3 * 3 * 1 * 8 + 8, 0, 3 * 3 * 8 * 16 + 16, 0, 2 * 784, 7850]);
});

void test('dense on an image applies to the last axis', () => {
  assert.deepEqual(inferLayerShapes([4, 4, 3], [dense(5)]).outputShapes, [[4, 4, 5]]);
});

void test('window output sizes match TensorFlow', () => {
  assert.equal(windowOutput(7, 2, 2, 'valid'), 3);
  assert.equal(windowOutput(7, 2, 2, 'same'), 4);
  assert.equal(windowOutput(5, 3, 1, 'same'), 5);
  assert.equal(inferLayerShapes([7, 7, 2], [{ type: 'maxPooling2d', poolSize: 3, strides: 1, padding: 'valid' }]).outputShapes[0]?.[0], 5);
});

void test('conv2d on a rank-1 input throws ShapeError with the layer index', () => {
  assert.throws(
    () => inferLayerShapes([784], [dense(10), conv(4, 3)]),
    (error: unknown) => error instanceof ShapeError && error.layerIndex === 1 && /rank-3 input/.test(error.message),
  );
});

void test('a kernel larger than the input gives an empty shape', () => {
  assert.throws(
    () => inferLayerShapes([4, 4, 1], [conv(2, 5)]),
    (error: unknown) => error instanceof ShapeError && error.layerIndex === 0 && /empty/.test(error.message),
  );
});

void test('GPT layers: shapes, parameter counts (tied copy counted once more) and their errors', () => {
  const parse = (l: Record<string, unknown>) => LayerSchema.parse(l);
  const gpt = (heads: number, maxLength: number) => [
    parse({ type: 'embedding', units: 8, vocabSize: 10 }),
    parse({ type: 'positionalEmbedding', maxLength }),
    parse({ type: 'transformerBlock', heads, useBias: false }),
    parse({ type: 'layerNormalization', center: false }),
    parse({ type: 'lmHead', tied: true, vocabSize: 10 }),
  ];
  const { outputShapes, parameterCounts, tiedParameters } = inferLayerShapes([6], gpt(2, 6));
  assert.deepEqual(outputShapes, [[6, 8], [6, 8], [6, 8], [6, 8], [6, 10]]);
  // Block without biases: 2 gains + qkv 8×24 + projection 8×8 + MLP 8×32 + 32×8.
  assert.deepEqual(parameterCounts, [80, 48, 2 * 8 + 8 * 24 + 8 * 8 + 8 * 32 + 32 * 8, 8, 80]);
  assert.equal(tiedParameters, 80);
  assert.throws(() => inferLayerShapes([6], gpt(3, 6)), (e: ShapeError) => e.layerIndex === 2 && e.field === 'heads' && /heads \(3\) must divide the model width 8; divisors of 8: 1, 2, 4, 8/.test(e.message));
  assert.throws(() => inferLayerShapes([6], gpt(2, 4)), (e: ShapeError) => e.field === 'maxLength' && /window of 6 tokens .* longer than maxLength 4/.test(e.message));
  assert.throws(() => inferLayerShapes([6, 2], gpt(2, 6)), /embedding needs spec.model.inputShape \[tokens\]/);
  assert.throws(() => inferLayerShapes([6], [parse({ type: 'dense', units: 4 }), ...gpt(2, 6)]), /embedding takes token ids, so it must be the first layer/);
  assert.throws(() => inferLayerShapes([6], [parse({ type: 'embedding', units: 8 })]), (e: ShapeError) => e.field === 'vocabSize');
});
