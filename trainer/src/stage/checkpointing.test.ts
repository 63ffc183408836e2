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

test('a tokenizer with another vocabulary of the same size is another run', async () => {
  const tiny = await job();
  const chars = runSpecHash(tiny, { type: 'char', vocab: ['a', 'b', 'c'] });
  assert.notEqual(runSpecHash(tiny, { type: 'char', vocab: ['a', 'b', 'd'] }), chars);
  assert.equal(runSpecHash(tiny, { type: 'char', vocab: ['a', 'b', 'c'] }), chars);
  assert.notEqual(chars, runSpecHash(tiny), 'a job without tokens data hashes without a tokenizer');
});
