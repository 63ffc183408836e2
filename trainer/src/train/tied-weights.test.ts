// The tied-gradient exchange on real loopback links: which stage does what, relays over two
// middle stages, the same fixed-order sum at both ends, and a wrongly shaped half refused, by the
// end and by a relay alike.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../tf/backend.ts';
import { linkPair, type LinkPair } from '../../../test/support/link-helpers.ts';
import { tinyGptJob } from '../../../test/support/gpt-jobs.ts';
import { resolveVocabulary } from '../model/vocabulary.ts';
import type { NamedVariable } from '../model/layers.ts';
import type { Link } from '../transport/index.ts';
import { PeerFrameError } from './expected-frames.ts';
import { StageFrames } from './stage-frames.ts';
import { countsInNorm, tiedReduction, tiedRole } from './tied-weights.ts';

before(async () => {
  await initBackend('cpu');
});

const spec = (tied: boolean) => {
  const job = tinyGptJob('unused', { tied });
  return { ...job, model: { ...job.model, layers: resolveVocabulary(job.model.layers, 5) } };
};

/** A stage's links with its frame checks (the tied weight is [5, 16]). */
const stageLinks = (partition: number[], stage: number, upstream?: Link, downstream?: Link) => ({
  upstream, downstream, frames: new StageFrames({ spec: spec(true), partition, stage, plan: { microBatchSize: 2, totalSteps: 10 }, upstream, downstream }),
});

const named = (name: string, tiedCopy = false): NamedVariable => ({ name, variable: tf.variable(tf.zeros([5, 16])), ...(tiedCopy ? { tiedCopy: true } : {}) });

test('roles: both uses on one stage, the two ends, the relays between them', () => {
  assert.deepEqual([0].map((s) => tiedRole(spec(true), [7], s)), ['local']);
  assert.deepEqual([0, 1, 2, 3].map((s) => tiedRole(spec(true), [2, 1, 2, 2], s)), ['original', 'relay', 'relay', 'copy']);
  assert.deepEqual([0, 1].map((s) => tiedRole(spec(false), [3, 4], s)), ['none', 'none']);
});

test('over four stages both ends get embedding half + head half, bit-identical; relays change nothing', async () => {
  const pairs: LinkPair[] = await Promise.all([linkPair(), linkPair(), linkPair()]);
  const link = (stage: number) => stageLinks([2, 1, 2, 2], stage, pairs[stage - 1]?.accepted, pairs[stage]?.client);
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
    tiedReduction('original', [named('layer0_embedding/embeddings')], stageLinks([3, 4], 0, undefined, pair.client))([tf.zeros([5, 16])], 1),
    tiedReduction('copy', [{ name: 'layer0_embedding/embeddings', variable: tf.variable(tf.zeros([4, 16])), tiedCopy: true }], stageLinks([3, 4], 1, pair.accepted))([tf.zeros([4, 16])], 1),
  ];
  const [originalEnd, copyEnd] = await Promise.allSettled(ends);
  assert.equal(originalEnd?.status, 'rejected');
  const reason = (originalEnd as PromiseRejectedResult).reason as Error;
  assert.ok(reason instanceof PeerFrameError, 'the typed error that exits with PeerLost (3)');
  assert.match(reason.message, /^the downstream stage \(stage 1\) sent a TiedGradient frame for step 1, micro-batch 1 as float32 \[4, 16\], expected float32 \[5, 16\]$/);
  assert.equal(copyEnd?.status, 'rejected');
  await pair.closeAll();
});

test('a relay refuses a garbled half (float64, or another shape) before passing it on', async () => {
  for (const garbled of [{ dtype: 'float64' as const, shape: [5, 16], data: new Float64Array(80) }, { dtype: 'float32' as const, shape: [16, 5], data: new Float32Array(80) }]) {
    const [above, below] = await Promise.all([linkPair(), linkPair()]);
    try {
      const relay = tiedReduction('relay', [], stageLinks([2, 1, 2, 2], 1, above.accepted, below.client))([], 3);
      await above.client.send({ kind: 6, step: 3, microBatch: 0, ...garbled });
      await assert.rejects(relay, (error: Error) => error instanceof PeerFrameError && /^the upstream stage \(stage 0\) sent a TiedGradient frame for step 3, micro-batch 0 as/.test(error.message));
    } finally {
      await Promise.all([above.closeAll(), below.closeAll()]);
    }
  }
});
