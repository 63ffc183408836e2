import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadPipelineJobFile } from '../api/load.ts';
import type { PipelineJob } from '../api/schema.ts';
import { runSpecHash } from './checkpointing.ts';

const TINY = fileURLToPath(new URL('../../../test/fixtures/tiny-job.yaml', import.meta.url));

async function job(overrides: string[] = []): Promise<PipelineJob> {
  const loaded = await loadPipelineJobFile(TINY, overrides);
  assert.ok(loaded.ok);
  return loaded.job;
}

test('the run spec hash changes with what changes the weights, not with the backend or the log cadence', async () => {
  const base = runSpecHash(await job());
  assert.equal(runSpecHash(await job(['spec.training.backend=wasm', 'spec.training.logEverySteps=1'])), base);
  assert.notEqual(runSpecHash(await job(['spec.training.steps=13'])), base);
  assert.notEqual(runSpecHash(await job(['spec.data.batchSize=40'])), base);
  assert.notEqual(runSpecHash(await job(['spec.pipeline.microBatches=2'])), base);
});

test('token data is part of the run: another vocabulary of the same size, or other shard content, is another run', async () => {
  const tiny = await job();
  const identity = { tokenizer: { type: 'char' as const, vocab: ['a', 'b', 'c'] }, shards: ['1'.repeat(64)] };
  const base = runSpecHash(tiny, identity);
  assert.notEqual(runSpecHash(tiny, { ...identity, tokenizer: { type: 'char', vocab: ['a', 'b', 'd'] } }), base);
  assert.notEqual(runSpecHash(tiny, { ...identity, shards: ['2'.repeat(64)] }), base);
  assert.equal(runSpecHash(tiny, structuredClone(identity)), base);
  assert.notEqual(base, runSpecHash(tiny), 'a job without tokens data hashes without them');
});

test('the evaluation cadence does not change a weight, so it does not change the run', async () => {
  const base = runSpecHash(await job());
  assert.equal(runSpecHash(await job(['spec.training.evalEverySteps=3', 'spec.training.evalSamples=8'])), base);
});

test('freezing is part of the run: freeze.layers or a trainable: false is another run', async () => {
  const base = runSpecHash(await job());
  assert.notEqual(runSpecHash(await job(['spec.training.freeze.layers=1'])), base);
  assert.notEqual(runSpecHash(await job(['spec.model.layers[0].trainable=false'])), base);
});
