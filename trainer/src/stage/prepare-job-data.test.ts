import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { CONFIG_ENV, StageExit } from '../contract/index.ts';
import { prepareJobData } from './prepare-job-data.ts';
import { mobyDickText } from '../../../test/support/token-folders.ts';
import { tinyGptLayers } from '../../../test/support/gpt-jobs.ts';

/** The stage configuration of a tiny GPT job whose tokens folder is prepared from `input` (relative to `baseDir`). */
function configFor(baseDir: string, input: string): NodeJS.ProcessEnv {
  const job = {
    apiVersion: 'pipetrain.io/v1alpha1',
    kind: 'PipelineJob',
    metadata: { name: 'prep', namespace: 'ns' },
    spec: {
      model: { inputShape: [8], layers: tinyGptLayers(true), loss: 'tokenCrossentropy' },
      pipeline: { stages: 2, microBatches: 2 },
      data: { dataset: { type: 'tokens', path: 'data/tokens', prepare: { input: [input], tokenizer: 'char' } }, batchSize: 4 },
      training: { steps: 1, backend: 'cpu' },
    },
  };
  return { [CONFIG_ENV]: JSON.stringify({ job, stage: 0, partition: [4, 3], listenHost: '0.0.0.0', listenPort: 1, metricsHost: '0.0.0.0', metricsPort: 2, baseDir }) };
}

function capture(): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

test('prepares the job\'s tokens folder from the stage configuration, and a second run is a no-op', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pipetrain-prepare-job-'));
  await writeFile(join(dir, 'raw.txt'), await mobyDickText(3000));
  const first = capture();
  assert.equal(await prepareJobData(configFor(dir, 'raw.txt'), first.stream), StageExit.Succeeded, first.text());
  const meta = JSON.parse(await readFile(join(dir, 'data/tokens/meta.json'), 'utf8')) as { tokenizer: unknown; splits: { train: { tokens: number } } };
  assert.ok(meta.splits.train.tokens > 2000, JSON.stringify(meta.splits));
  const written = (await stat(join(dir, 'data/tokens/meta.json'))).mtimeMs;
  const again = capture();
  assert.equal(await prepareJobData(configFor(dir, 'raw.txt'), again.stream), StageExit.Succeeded);
  assert.match(again.text(), /up to date/);
  assert.equal((await stat(join(dir, 'data/tokens/meta.json'))).mtimeMs, written, 'nothing rewritten');
});

test('bad input exits InvalidJob (no retry helps) with the reason as the last log line; no configuration too', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pipetrain-prepare-job-'));
  const missing = capture();
  assert.equal(await prepareJobData(configFor(dir, 'absent.txt'), missing.stream), StageExit.InvalidJob);
  assert.match(missing.text().trim().split('\n').at(-1) ?? '', /^prepare failed: .*absent\.txt/);
  const none = capture();
  assert.equal(await prepareJobData({}, none.stream), StageExit.InvalidJob);
  assert.match(none.text(), new RegExp(`prepare failed: ${CONFIG_ENV} is not set`));
});
