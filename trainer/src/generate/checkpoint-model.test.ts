import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { bits, layerState, snapshot, tempDir } from '../../../test/support/checkpoint-fixtures.ts';
import { COMMIT_FILE, stepDirName, tryCommit } from '../checkpoint/index.ts';
import { CheckpointWriter } from '../checkpoint/writer.ts';
import { CheckpointError, readCheckpointedModel, readLanguageModelCheckpoint } from './checkpoint-model.ts';

const description = {
  model: { inputShape: [4], loss: 'meanSquaredError', layers: [4, 5, 6, 7, 8].map(() => ({ type: 'dense', units: 3, activation: 'linear', useBias: true })) },
  seed: 42,
  optimizer: 'adam',
};
const log = () => {};

/** Steps written by 2 stages ([2, 3] layers); stage 0 describes the model unless `model` is false. */
async function writeSteps(dir: string, steps: number[], options: { model?: boolean } = {}): Promise<void> {
  const partition = [2, 3];
  for (const step of steps) {
    for (const stage of [0, 1]) {
      const result = await new CheckpointWriter(dir).save(snapshot(step, stage, partition, stage === 0 && options.model !== false ? { model: description } : {}));
      assert.ok(result.ok);
    }
    assert.ok(await tryCommit(dir, step, 2));
  }
}

test('reads every layer in order, whatever partition wrote it, with the job, the step and the commit record\'s checksum', async (t) => {
  const dir = await tempDir(t);
  await writeSteps(dir, [3, 6]);
  const checkpoint = await readCheckpointedModel(dir, { log });
  assert.equal(checkpoint.step, 6);
  assert.equal(checkpoint.jobName, 'tiny');
  assert.equal(checkpoint.stages, 2);
  assert.equal(checkpoint.commitSha256, createHash('sha256').update(await readFile(join(dir, stepDirName(6), COMMIT_FILE))).digest('hex'));
  assert.deepEqual(checkpoint.layers.map((ws) => ws.map((w) => [w.name, bits(w.data)])), [0, 1, 2, 3, 4].map((i) => layerState(i, 6).weights.map((w) => [w.name, bits(w.data)])));
  assert.deepEqual(bits(checkpoint.weights.get('layer3_dense/kernel')!), bits(layerState(3, 6).weights[0]!.data));
  assert.equal(checkpoint.description.tokenizer, undefined);
});

test('a step folder picks its step; --step must then agree', async (t) => {
  const dir = await tempDir(t);
  await writeSteps(dir, [3, 6]);
  const folder = join(dir, stepDirName(3));
  assert.equal((await readCheckpointedModel(folder, { log })).step, 3);
  assert.equal((await readCheckpointedModel(folder, { step: 3, log })).step, 3);
  await assert.rejects(readCheckpointedModel(folder, { step: 6, log }), (e: Error) => e instanceof CheckpointError && e.message === `${folder} is the folder of step 3, but --step 6 was given; give the checkpoint folder (${dir}) with --step, or drop --step`);
});

test('a missing folder, a file, a checkpoint without a model description, and a non-language model for generate are refused by name', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(readCheckpointedModel(join(dir, 'nope'), { log }), /nope: no such folder; give a job's checkpoint folder \(spec\.checkpoint\.path\)$/);
  await writeFile(join(dir, 'file'), 'x');
  await assert.rejects(readCheckpointedModel(join(dir, 'file'), { log }), /file: not a folder/);
  await assert.rejects(readCheckpointedModel(dir, { log }), new RegExp(`^Error: ${dir}: no committed checkpoint; train a job with spec.checkpoint.path set to this folder first$`));
  await writeSteps(join(dir, 'old'), [2], { model: false });
  await assert.rejects(readCheckpointedModel(join(dir, 'old'), { log }), /old: checkpoint step 2 does not describe its model \(written by an older pipetrain\); train again with this version/);
  await writeSteps(join(dir, 'mlp'), [2]);
  await assert.rejects(readLanguageModelCheckpoint(join(dir, 'mlp'), { log }), /mlp: checkpoint step 2 was not trained on a tokens dataset, so it has no tokenizer to generate text with/);
});
