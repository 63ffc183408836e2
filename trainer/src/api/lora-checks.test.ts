import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePipelineJobYaml } from './load.ts';
import { summarizeJob } from './summary.ts';

const gpt = (lora: string) => `
apiVersion: pipetrain.io/v1alpha1
kind: PipelineJob
metadata: {name: gpt}
spec:
  model:
    inputShape: [16]
    layers:
      - {type: embedding, units: 8}
      - {type: positionalEmbedding, maxLength: 16}
      - {type: transformerBlock, heads: 2, repeat: 2}
      - {type: layerNormalization, epsilon: 1.0e-5}
      - {type: lmHead, tied: true}
    loss: tokenCrossentropy
  data:
    dataset: {type: tokens, path: data/chars}
  training: {lora: ${lora}}
`;

const mlp = (lora: string) => `
apiVersion: pipetrain.io/v1alpha1
kind: PipelineJob
metadata: {name: mlp}
spec:
  model:
    inputShape: [12]
    layers:
      - {type: dense, units: 6, activation: relu}
      - {type: dense, units: 3, activation: softmax}
    loss: sparseCategoricalCrossentropy
  data:
    dataset: {type: synthetic, samples: 100, featureShape: [12], classes: 3}
  training: {lora: ${lora}}
`;

function problems(yaml: string): string[] {
  const result = parsePipelineJobYaml(yaml, 'job.yaml');
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
}

void test('valid LoRA specs pass', () => {
  assert.deepEqual(problems(gpt('{rank: 4, alpha: 8, targets: [attention, mlp]}')), []);
  assert.deepEqual(problems(mlp('{rank: 3, targets: [dense]}')), []);
});

void test('a target without layers of its kind names the field and the fix', () => {
  const found = problems(mlp('{rank: 2, targets: [attention]}')).join('\n');
  assert.match(found, /spec\.training\.lora\.targets(\[0\]|\.0).*"attention" adapts transformerBlock layers, but spec\.model\.layers has none; remove "attention" from the targets \(this model offers: dense\)/);
  assert.match(problems(gpt('{rank: 2, targets: [attention, dense]}')).join('\n'), /targets(\[1\]|\.1).*"dense" adapts dense layers.*offers: attention, mlp/);
});

void test('the rank must fit every adapted kernel', () => {
  // The second dense kernel is [6, 3]: rank 4 does not fit its smaller side.
  assert.match(problems(mlp('{rank: 4, targets: [dense]}')).join('\n'), /spec\.training\.lora\.rank.*must be <= 3, the smaller side of the adapted kernel \[6, 3\] of layer 1 \(dense\), got 4; lower the rank/);
  assert.match(problems(gpt('{rank: 9, targets: [mlp]}')).join('\n'), /spec\.training\.lora\.rank.*must be <= 8.*transformerBlock.*got 9/);
});

void test('the schema rejects rank <= 0, alpha <= 0, no targets and unknown targets', () => {
  assert.match(problems(mlp('{rank: 0, targets: [dense]}')).join('\n'), /spec\.training\.lora\.rank/);
  assert.match(problems(mlp('{rank: -1, targets: [dense]}')).join('\n'), /spec\.training\.lora\.rank/);
  assert.match(problems(mlp('{rank: 1, alpha: 0, targets: [dense]}')).join('\n'), /spec\.training\.lora\.alpha/);
  assert.match(problems(mlp('{rank: 1, targets: []}')).join('\n'), /spec\.training\.lora\.targets/);
  assert.match(problems(mlp('{rank: 1, targets: [conv]}')).join('\n'), /spec\.training\.lora\.targets/);
  assert.match(problems(mlp('{rank: 1}')).join('\n'), /spec\.training\.lora\.targets/);
});

void test('pipetrain validate\'s summary names the adapted layers', () => {
  const result = parsePipelineJobYaml(gpt('{rank: 4, targets: [attention]}').replace('training: {lora:', 'training: {freeze: {layers: 1}, lora:'), 'job.yaml');
  assert.ok(result.ok);
  assert.match(summarizeJob(result.job), /; 2 frozen; LoRA rank 4 on 2 layers\)/);
});
