import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LayerSpec } from '../api/schema.ts';
import { isIdentical, matchLayers, matchWeights, sourceLayersFor, sourceWeightName } from './match-layers.ts';

const dense = (units: number, name?: string): LayerSpec => ({ type: 'dense', units, activation: 'linear', useBias: true, ...(name ? { name } : {}) });
const block = (repeat: number, name?: string): LayerSpec => ({ type: 'transformerBlock', heads: 2, repeat, mlpRatio: 4, dropout: 0, useBias: true, ...(name ? { name } : {}) } as LayerSpec);

test('unnamed layers match by position, named ones by name; weightless layers do not count', () => {
  const source = [dense(8), { type: 'dropout', rate: 0.1 } as LayerSpec, dense(3, 'head')];
  const job = [dense(8), { type: 'flatten' } as LayerSpec, dense(5, 'classifier'), dense(3, 'head')];
  const plan = matchLayers(job, source, 'src');
  assert.deepEqual(plan.sourceOf, [0, undefined, undefined, 2]);
  assert.deepEqual(plan.fresh, [2]);
  assert.deepEqual(plan.dropped, []);
  assert.equal(sourceWeightName(plan, source, 'layer3_dense/bias'), 'layer2_dense/bias');
  assert.equal(sourceWeightName(plan, source, 'layer2_dense/kernel'), undefined);
  assert.deepEqual(sourceLayersFor(plan, source, ['layer0_dense/kernel', 'layer3_dense/kernel', 'layer2_dense/kernel']), [0, 2]);
  assert.equal(isIdentical(plan), false);
  assert.equal(isIdentical(matchLayers(source, source, 'src')), true);
});

test('a repeated block matches copy by copy, by name and repetition', () => {
  const source = [block(3, 'body')];
  const plan = matchLayers([block(2, 'body'), dense(4)], source, 'src');
  assert.deepEqual(plan.sourceOf, [0, 1, undefined]);
  assert.deepEqual(plan.dropped, [2]);
  assert.match(plan.notes.join('\n'), /src: layer 2, transformerBlock "body" is not in spec\.model\.layers; ignored/);
});

test('another type at the same name is an error naming the layer; so is a weight of another shape', () => {
  assert.throws(() => matchLayers([{ type: 'layerNormalization', epsilon: 1e-3, center: true, name: 'x' } as LayerSpec], [dense(4, 'x')], 'src'), /spec\.model\.layers\[0\]: is a layerNormalization layer, but the layer it matches in src \(layer 0, dense "x"\) is a dense/);
  const plan = matchLayers([dense(4)], [dense(4)], 'src');
  const weights = new Map([['layer0_dense/kernel', { name: 'layer0_dense/kernel', shape: [3, 4], data: new Float32Array(12) }]]);
  assert.throws(() => matchWeights(plan, [dense(4)], [dense(4)], [{ name: 'layer0_dense/kernel', shape: [5, 4] }], weights, 'src'), /weight kernel has shape \[5, 4\] in this job but \[3, 4\] in src/);
  assert.throws(() => matchWeights(plan, [dense(4)], [dense(4)], [{ name: 'layer0_dense/bias', shape: [4] }], weights, 'src'), /src has no weight layer0_dense\/bias/);
});
