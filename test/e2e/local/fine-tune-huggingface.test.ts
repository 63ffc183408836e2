// End to end: a GPT trained by pipetrain, exported as a Hugging Face GPT-2 folder, is the starting
// point of another job (spec.model.from.huggingface). The export round trips bit for bit, so that
// job ends with exactly the weights of the same job started from the source's checkpoint. A source
// whose tokenizer differs from the data's is refused before any step, naming both.
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gptWorkspace } from '../../support/gpt-jobs.ts';
import { mobyDickText, writeTokenFolder } from '../../support/token-folders.ts';
import { parseSummary, runCli } from './cli-runner.ts';

const source = await gptWorkspace({ chars: 2000 });
after(() => rm(source.dir, { recursive: true, force: true }));

/** The source job's file with `from`, its own checkpoint folder and `steps`, written next to it as `name`.yaml. */
async function tunedJob(name: string, from: Record<string, unknown> | undefined, options: { tokens?: string } = {}): Promise<string> {
  const job = JSON.parse(await readFile(source.job, 'utf8'));
  job.metadata.name = name;
  if (from) job.spec.model.from = from;
  job.spec.training.steps = 4;
  job.spec.pipeline.stages = 2;
  job.spec.checkpoint = { path: `${name}-checkpoints`, everySteps: 2 };
  if (options.tokens) job.spec.data.dataset.path = options.tokens;
  const file = join(source.dir, `${name}.yaml`);
  await writeFile(file, JSON.stringify(job));
  return file;
}

test('from a Hugging Face export of a pipetrain GPT: the same weights as starting from its checkpoint', { timeout: 300_000 }, async () => {
  const trained = parseSummary(await runCli(['train', source.job, '--json', '--sample-tokens', '0']));
  assert.equal(trained.status, 'Succeeded', trained.error);
  const exported = await runCli(['export', source.checkpoints, '--format', 'huggingface', '--out', join(source.dir, 'hf')]);
  assert.equal(exported.code, 0, exported.stderr);

  const fromHf = parseSummary(await runCli(['train', await tunedJob('from-hf', { huggingface: 'hf' }), '--json', '--sample-tokens', '0']));
  const fromCheckpoint = parseSummary(await runCli(['train', await tunedJob('from-checkpoint', { checkpoint: { path: 'checkpoints' } }), '--json', '--sample-tokens', '0']));
  assert.equal(fromHf.status, 'Succeeded', fromHf.error);
  assert.equal(fromCheckpoint.status, 'Succeeded', fromCheckpoint.error);
  assert.equal(fromHf.weightsSha256, fromCheckpoint.weightsSha256);
  const fresh = parseSummary(await runCli(['train', await tunedJob('fresh', undefined), '--json', '--sample-tokens', '0']));
  assert.notEqual(fresh.weightsSha256, fromHf.weightsSha256, 'the source changes where training starts');
});

test('a source trained on another vocabulary is refused at the start, naming both tokenizers; no step runs', { timeout: 300_000 }, async () => {
  // Other text: another set of characters, so another char vocabulary.
  await writeTokenFolder(join(source.dir, 'other-tokens'), (await mobyDickText(2000)).toUpperCase(), { shardTokens: 2000 });
  const result = await runCli(['train', await tunedJob('other-vocabulary', { huggingface: 'hf' }, { tokens: 'other-tokens' }), '--json', '--sample-tokens', '0']);
  const summary = parseSummary(result);
  assert.notEqual(summary.status, 'Succeeded');
  assert.match(result.stderr, /spec\.model\.from: the model was trained with the tokenizer of .*hf \(char tokenizer, \d+ characters\), but the data is tokenized with that of the prepared folder .*other-tokens \(char tokenizer, \d+ characters\)/);
  assert.equal(summary.restarts, 0, 'a wrong tokenizer is not retried');
});
