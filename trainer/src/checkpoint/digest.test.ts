import { test } from 'node:test';
import assert from 'node:assert/strict';
import { weightsDigest } from '../train/digest.ts';
import { checkpointWeightsDigest } from './digest.ts';
import { snapshot, tempDir, writeCheckpoint } from '../../../test/support/checkpoint-fixtures.ts';

test('the digest of a checkpoint equals the digest of its weights in layer order', async (t) => {
  const dir = await tempDir(t);
  await writeCheckpoint(dir, 5, [2, 1]);
  const layers = [...snapshot(5, 0, [2, 1]).layers, ...snapshot(5, 1, [2, 1]).layers];
  const expected = weightsDigest(layers.flatMap((l) => l.weights.map((w) => ({ name: w.name, layerIndex: l.layerIndex, data: w.data }))));
  assert.deepEqual(await checkpointWeightsDigest(dir), { step: 5, weightsSha256: expected });
});

test('no checkpoint, no digest', async (t) => {
  assert.equal(await checkpointWeightsDigest(await tempDir(t)), undefined);
});
