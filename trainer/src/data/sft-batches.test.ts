import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../tf/backend.ts';
import { tinySftJob, writeDemonstrations } from '../../../test/support/sft-jobs.ts';
import { loadSftData } from './sft-data.ts';
import { sftBatches } from './sft-batches.ts';

before(async () => {
  await initBackend('cpu');
});

test("inputs, targets packed with the mask, and the scale: 1 / the whole batch's completion tokens", async () => {
  // Completion targets per demonstration: 1, 2, 3, 4 (window 8).
  const lines = [{ prompt: 'ab', completion: 'c' }, { prompt: 'ab', completion: 'cd' }, { prompt: 'ab', completion: 'cde' }, { prompt: 'ab', completion: 'cdef' }];
  const file = await writeDemonstrations(lines);
  const spec = tinySftJob(file, { data: { dataset: { type: 'sft', path: file, tokenizer: { type: 'char' } }, batchSize: 4, validationSplit: 0, shuffle: { enabled: false } } });
  const data = await loadSftData(spec, '/');
  const batches = sftBatches(spec, data);
  assert.equal(batches.completionScale!(0), 1 / 10, '1 + 2 + 3 + 4 completion targets in the batch, over both micro-batches');
  assert.equal(batches.evaluation, undefined, 'no validation demonstrations');
  const input = batches.input(0, 1);
  const targets = batches.targets(0, 1);
  assert.deepEqual(input.shape, [2, 8]);
  assert.deepEqual(targets.shape, [2, 2, 8]);
  // Micro-batch 1 holds demonstrations 3 and 4 (no shuffle). Vocabulary a..f = ids 0..5; padding is id 0.
  assert.deepEqual(input.arraySync(), [[0, 1, 2, 3, 4, 0, 0, 0], [0, 1, 2, 3, 4, 5, 0, 0]]);
  assert.deepEqual(targets.arraySync(), [
    [[1, 2, 3, 4, 0, 0, 0, 0], [0, 1, 1, 1, 0, 0, 0, 0]],
    [[1, 2, 3, 4, 5, 0, 0, 0], [0, 1, 1, 1, 1, 0, 0, 0]],
  ]);
  tf.dispose([input, targets]);
});

test('validation: the completion tokens of the evaluated demonstrations', async () => {
  const lines = Array.from({ length: 10 }, (_, i) => ({ prompt: 'a', completion: 'b'.repeat(i + 1) }));
  const file = await writeDemonstrations(lines);
  const spec = tinySftJob(file, { data: { dataset: { type: 'sft', path: file, tokenizer: { type: 'char' } }, batchSize: 2, validationSplit: 0.3 } });
  const data = await loadSftData(spec, '/');
  const evaluation = sftBatches(spec, data).evaluation!;
  assert.equal(evaluation.samples, 3);
  assert.equal(evaluation.microBatches, 3, 'micro-batches of 1');
  const expected = [...data.validation.completionTokens].reduce((a, b) => a + b, 0);
  assert.equal(evaluation.completionTokens, expected);
});
