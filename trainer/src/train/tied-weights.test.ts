// The tied-gradient exchange on real loopback links: which stage does what, relays over two
// middle stages, the same fixed-order sum at both ends, and a wrongly shaped half refused.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../tf/backend.ts';
import { linkPair, type LinkPair } from '../../../test/support/link-helpers.ts';
import { tinyGptJob } from '../../../test/support/gpt-jobs.ts';
import { resolveVocabulary } from '../model/vocabulary.ts';
import type { NamedVariable } from '../model/layers.ts';
import { countsInNorm, tiedReduction, tiedRole } from './tied-weights.ts';

before(async () => {
  await initBackend('cpu');
});

const spec = (tied: boolean) => {
  const job = tinyGptJob('unused', { tied });
  return { ...job, model: { ...job.model, layers: resolveVocabulary(job.model.layers, 5) } };
};

const named = (name: string, tiedCopy = false): NamedVariable => ({ name, variable: tf.variable(tf.zeros([5, 16])), ...(tiedCopy ? { tiedCopy: true } : {}) });

test('roles: both uses on one stage, the two ends, the relays between them', () => {
  assert.deepEqual([0].map((s) => tiedRole(spec(true), [7], s)), ['local']);
  assert.deepEqual([0, 1, 2, 3].map((s) => tiedRole(spec(true), [2, 1, 2, 2], s)), ['original', 'relay', 'relay', 'copy']);
  assert.deepEqual([0, 1].map((s) => tiedRole(spec(false), [3, 4], s)), ['none', 'none']);
});

test('over four stages both ends get embedding half + head half, bit-identical; relays change nothing', async () => {
  const pairs: LinkPair[] = await Promise.all([linkPair(), linkPair(), linkPair()]);
  const link = (stage: number) => ({ upstream: pairs[stage - 1]?.accepted, downstream: pairs[stage]?.client });
  const original = named('layer0_embedding/embeddings');
  const other = named('layer0_x/kernel');
  const copy = named('layer0_embedding/embeddings', true);
  const embeddingHalf = tf.randomNormal([5, 16], 0, 1, 'float32', 1);
  const headHalf = tf.randomNormal([5, 16], 0, 1, 'float32', 2);
  const expected = Array.from(tf.add(embeddingHalf, headHalf).dataSync());
  const kept = tf.ones([5, 16]);
  const relayGrads = [tf.ones([2])];
  const [first, relay1, relay2, last] = await Promise.all([
    tiedReduction('original', [original, other], link(0))([embeddingHalf, kept], 7),
    tiedReduction('relay', [], link(1))(relayGrads, 7),
    tiedReduction('relay', [], link(2))(relayGrads, 7),
    tiedReduction('copy', [copy], link(3))([headHalf], 7),
  ]);
  assert.deepEqual(Array.from(first[0]!.dataSync()), expected);
  assert.deepEqual(Array.from(last[0]!.dataSync()), expected);
  assert.equal(first[1], kept, 'other gradients are passed through');
  assert.equal(relay1, relayGrads);
  assert.equal(relay2, relayGrads);
  assert.deepEqual(countsInNorm([original, other, copy]), [true, true, false]);
  tf.dispose([...first, ...last, ...relayGrads]);
  await Promise.all(pairs.map((p) => p.closeAll()));
});

test('a half of another shape is refused with a message naming both shapes', async () => {
  const pair = await linkPair();
  const ends = [
    tiedReduction('original', [named('layer0_embedding/embeddings')], { downstream: pair.client })([tf.zeros([5, 16])], 1),
    tiedReduction('copy', [{ name: 'layer0_embedding/embeddings', variable: tf.variable(tf.zeros([4, 16])), tiedCopy: true }], { upstream: pair.accepted })([tf.zeros([4, 16])], 1),
  ];
  const [originalEnd, copyEnd] = await Promise.allSettled(ends);
  assert.equal(originalEnd?.status, 'rejected');
  assert.match(String((originalEnd as PromiseRejectedResult).reason), /tied gradient of step 1 has shape \[4, 16\], expected \[5, 16\]: the stages disagree about the model/);
  assert.equal(copyEnd?.status, 'rejected');
  await pair.closeAll();
});
