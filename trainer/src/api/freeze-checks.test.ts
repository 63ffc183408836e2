import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePipelineJobYaml } from './load.ts';
import { summarizeJob } from './summary.ts';

const gpt = (training: string, head = '{type: lmHead, tied: true}', embedding = '{type: embedding, units: 8}') => `
apiVersion: pipetrain.io/v1alpha1
kind: PipelineJob
metadata: {name: gpt}
spec:
  model:
    inputShape: [16]
    layers:
      - ${embedding}
      - {type: positionalEmbedding, maxLength: 16}
      - {type: transformerBlock, heads: 2, repeat: 3}
      - {type: layerNormalization, epsilon: 1.0e-5}
      - ${head}
    loss: tokenCrossentropy
  data:
    dataset: {type: tokens, path: data/chars}
  training: ${training}
`;

function problems(yaml: string): string[] {
  const result = parsePipelineJobYaml(yaml, 'job.yaml');
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

void test('freeze.layers counts a repeated transformerBlock once per block', () => {
  // 7 layers: embedding, positions, 3 blocks, LayerNorm, head; freezing 6 leaves the (tied) head,
  // which follows the frozen embedding, so nothing would train.
  assert.deepEqual(problems(gpt('{freeze: {layers: 4}}')), []);
  assert.deepEqual(problems(gpt('{freeze: {layers: 5}, steps: 1}')), []);
  assert.match(problems(gpt('{freeze: {layers: 8}}')).join('\n'), /spec\.training\.freeze\.layers.*must be <= the number of layers \(7, each repeated transformerBlock counted\), got 8/);
});

void test('nothing to train is an error that names the field and the fix', () => {
  const all = problems(gpt('{freeze: {layers: 7}}'));
  assert.match(all.join('\n'), /spec\.training\.freeze\.layers.*nothing to train.*lower spec\.training\.freeze\.layers/);
  // The tied head is the embedding's matrix: with everything but the head frozen, nothing trains.
  assert.match(problems(gpt('{freeze: {layers: 6}}')).join('\n'), /nothing to train/);
  // An untied head has a matrix of its own.
  assert.deepEqual(problems(gpt('{freeze: {layers: 6}}', '{type: lmHead}')), []);
});

void test('a tied head cannot disagree with its embedding, and trainable: true inside the frozen prefix is a contradiction', () => {
  assert.match(problems(gpt('{}', '{type: lmHead, tied: true, trainable: false}')).join('\n'), /spec\.model\.layers(\[4\]|\.4)\.trainable.*tied lmHead shares the embedding's matrix, which trains/);
  assert.match(problems(gpt('{freeze: {layers: 1}}', '{type: lmHead, tied: true, trainable: true}')).join('\n'), /which is frozen/);
  assert.deepEqual(problems(gpt('{}', '{type: lmHead, tied: true, trainable: false}', '{type: embedding, units: 8, trainable: false}')), []);
  assert.match(problems(gpt('{freeze: {layers: 2}}', '{type: lmHead}', '{type: embedding, units: 8, trainable: true}')).join('\n'), /layers(\[0\]|\.0)\.trainable.*among the first 2/);
});

void test('trainable is accepted on every layer type and kept as given', () => {
  const result = parsePipelineJobYaml(gpt('{}', '{type: lmHead, trainable: true}', '{type: embedding, units: 8, trainable: false}'), 'job.yaml');
  assert.ok(result.ok);
  assert.equal(result.job.spec.model.layers[0]!.trainable, false);
  assert.equal(result.job.spec.model.layers[1]!.trainable, undefined);
});

void test('validate says how many layers are frozen', () => {
  const summary = (training: string) => {
    const result = parsePipelineJobYaml(gpt(training, '{type: lmHead}'), 'job.yaml');
    assert.ok(result.ok);
    return summarizeJob(result.job);
  };
  assert.match(summary('{freeze: {layers: 3}}'), /^valid PipelineJob gpt: 7 layers \([\d,]+ parameters besides those per vocabulary entry; 3 frozen\) in 1 stage/);
  assert.doesNotMatch(summary('{}'), /frozen/);
});
