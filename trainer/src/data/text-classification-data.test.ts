// textClassification datasets: texts become left-padded windows of token ids (cut at the window),
// labels become class indices (integers, or names declared in labels), and bad lines are named by
// file:line. A tiny GPT with a classificationHead trains on them to the same weights, bit for bit,
// in one process and on 2 or 3 pipeline stages.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineJobSchema, type PipelineJobSpec } from '../api/schema.ts';
import { checkSemantics } from '../api/semantic.ts';
import { evaluate } from '../runner/evaluate.ts';
import { initBackend } from '../tf/backend.ts';
import { weightsDigest } from '../train/digest.ts';
import { trainPipelineInProcess } from '../train/pipeline-in-process.ts';
import { trainSingleProcess } from '../train/reference.ts';
import { writeDemonstrations } from '../../../test/support/sft-jobs.ts';
import { writeTokenFolder } from '../../../test/support/token-folders.ts';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTrainingData } from './load.ts';
import type { SplitDataset } from './dataset.ts';

before(async () => {
  await initBackend('cpu');
});

/** Spam-like (label 1: many "!" and "$") and ham-like (label 0) texts of 3 to 14 characters. */
function labelledTexts(count: number): { text: string; label: number }[] {
  return Array.from({ length: count }, (_, i) => {
    const spam = i % 2 === 1;
    const length = 3 + ((i * 7) % 12);
    const text = Array.from({ length }, (_, j) => (spam ? '$!ab'[(i + j) % 4] : 'abcd '[(i * 3 + j) % 5])).join('');
    return { text, label: spam ? 1 : 0 };
  });
}

function job(file: string, dataset: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): PipelineJobSpec {
  return PipelineJobSchema.parse({
    apiVersion: 'pipetrain.io/v1alpha1',
    kind: 'PipelineJob',
    metadata: { name: 'tiny-classify' },
    spec: {
      model: {
        inputShape: [8],
        layers: [
          { type: 'embedding', units: 16 },
          { type: 'positionalEmbedding', maxLength: 8, dropout: 0.1 },
          { type: 'transformerBlock', heads: 2, repeat: 2, mlpRatio: 2, dropout: 0.1, useBias: false },
          { type: 'layerNormalization', epsilon: 1e-5, center: false },
          { type: 'classificationHead', classes: 2 },
        ],
        loss: 'sparseCategoricalCrossentropy',
      },
      pipeline: { stages: 1, microBatches: 2 },
      data: { dataset: { type: 'textClassification', path: file, tokenizer: { type: 'char' }, ...dataset }, batchSize: 4, validationSplit: 0.25, shuffle: { enabled: true, seed: 3 } },
      training: { steps: 6, optimizer: { type: 'adamw', learningRate: 0.01 }, gradientClipNorm: 1, evalEverySteps: 3, evalSamples: 4, backend: 'cpu' },
      ...spec,
    },
  }).spec;
}

test('padding, cut and named labels, exactly', async () => {
  const file = await writeDemonstrations([{ text: 'ab', label: 'spam' }, { text: 'abcdabcdab', label: 'ham' }], 'texts.jsonl');
  const base = job(file, { labels: ['ham', 'spam'] });
  const { data } = await loadTrainingData({ ...base, data: { ...base.data, validationSplit: 0 } }, '/');
  const { train } = data as SplitDataset;
  // The char vocabulary of "abcd": a=0, b=1, c=2, d=3 (sorted); padding is id 0 on the left.
  assert.deepEqual([...train.features], [0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 2, 3, 0, 1, 2, 3]);
  assert.deepEqual([...train.labels], [1, 0]);
  assert.equal(train.classes, 2);
});

test('bad input is named by file:line: a missing field, an unknown label, a label out of range, an unknown character, an empty file', async () => {
  const cases: [(object | string)[], Record<string, unknown>, RegExp][] = [
    [[{ text: 'ab', label: 0 }, { body: 'ab', label: 1 }], {}, /texts\.jsonl:2: no "text" field \(spec\.data\.dataset\.textField\); the line has the keys "body", "label"/],
    [[{ text: 'ab', label: 'eggs' }], { labels: ['ham', 'spam'] }, /texts\.jsonl:1: the label "eggs" is not one of spec\.data\.dataset\.labels \("ham", "spam"\)/],
    [[{ text: 'ab', label: 0 }, { text: 'ab', label: 2 }], {}, /texts\.jsonl:2: the label 2 must be an integer class 0\.\.1/],
    [[{ text: 'ab', label: 0 }, 'not json'], {}, /texts\.jsonl:2: not valid JSON/],
    [[''], {}, /texts\.jsonl: no labelled texts \(the file is empty\)/],
    [[{ text: 'ab', label: 0 }], { labels: ['ham', 'spam', 'eggs'] }, /spec\.data\.dataset\.labels: 3 labels, but the classificationHead has 2 classes/],
  ];
  for (const [lines, dataset, message] of cases) {
    const file = await writeDemonstrations(lines, 'texts.jsonl');
    await assert.rejects(loadTrainingData(job(file, dataset), '/'), message);
  }
  // A prepared folder's char vocabulary (a, b, c, space) lacks "z": an error naming file:line, or dropped when asked.
  const folder = join(await mkdtemp(join(tmpdir(), 'pipetrain-texts-')), 'tokens');
  await writeTokenFolder(folder, 'abc abc abc cab');
  const file = await writeDemonstrations([{ text: 'ab', label: 0 }, { text: 'azb', label: 1 }], 'texts.jsonl');
  const prepared = { tokenizer: { type: 'prepared', path: folder } };
  await assert.rejects(loadTrainingData(job(file, prepared), '/'), /texts\.jsonl:2: "text" has the character "z" \(U\+007A\), which the char tokenizer of the prepared folder .* or set spec\.data\.dataset\.unknownCharacters: drop/);
  const base = job(file, { ...prepared, unknownCharacters: 'drop' });
  const { data } = await loadTrainingData({ ...base, data: { ...base.data, validationSplit: 0 } }, '/');
  // Vocabulary " abc": a=1, b=2; "azb" keeps "ab".
  assert.deepEqual([...(data as SplitDataset).train.features], [0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 1, 2]);
});

test('the checks refuse a textClassification job without a classificationHead last or with another loss', () => {
  const spec = job('texts.jsonl');
  const bad = { ...spec, model: { ...spec.model, loss: 'meanSquaredError' as const, layers: [...spec.model.layers, { type: 'dropout' as const, rate: 0.1 }] } };
  const result = checkSemantics({ apiVersion: 'pipetrain.io/v1alpha1', kind: 'PipelineJob', metadata: { name: 'x' }, spec: bad });
  const messages = JSON.stringify(result);
  assert.match(messages, /classificationHead must be the last layer/);
  assert.match(messages, /use loss sparseCategoricalCrossentropy, got meanSquaredError/);
});

test('a GPT with a classificationHead trains to the same weights in one process and on 2 or 3 stages, bit for bit; evaluation gives an accuracy', async () => {
  const file = await writeDemonstrations(labelledTexts(40), 'texts.jsonl');
  const { spec, data } = await loadTrainingData(job(file), '/');
  const reference = await trainSingleProcess(spec, data);
  const digest = weightsDigest(reference.weights);
  for (const partition of [[3, 3], [2, 2, 2]]) {
    const piped = await trainPipelineInProcess(spec, data, partition);
    assert.equal(weightsDigest(piped.weights), digest, `partition ${partition.join('+')}`);
    assert.deepEqual(piped.losses, reference.losses);
  }
  assert.ok(reference.losses.every(Number.isFinite));
  const evaluation = evaluate(spec, reference.weights, (data as SplitDataset).validation);
  assert.ok(evaluation.accuracy !== undefined && evaluation.accuracy >= 0 && evaluation.accuracy <= 1, JSON.stringify(evaluation));
});
