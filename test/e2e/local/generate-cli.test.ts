// `pipetrain generate` end to end: a tiny GPT trained by real stage processes, then sampled from
// its checkpoint folder. A seed repeats the text, temperature 0 is greedy (checked against the
// model's own logits), --step picks an older checkpoint, and the number of stages that wrote the
// checkpoint does not matter. The training runs also check the validation figures of the summary.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { readLanguageModelCheckpoint } from '../../../trainer/src/generate/checkpoint-model.ts';
import { trainedModel } from '../../../trainer/src/generate/trained-model.ts';
import { initBackend } from '../../../trainer/src/tf/backend.ts';
import { gptWorkspace } from '../../support/gpt-jobs.ts';
import { parseSummary, runCli } from './cli-runner.ts';

interface Generated { text: string; promptTokens: number[]; tokens: number[] }

let threeStages = { dir: '', checkpoints: '' };
let oneStage = { dir: '', checkpoints: '' };

async function trained(stages: number) {
  const workspace = await gptWorkspace({ spec: {} });
  const result = await runCli(['train', workspace.job, '--json', '--sample-tokens', '0', '--set', `spec.pipeline.stages=${stages}`, '--set', 'spec.training.steps=8']);
  const summary = parseSummary(result) as ReturnType<typeof parseSummary> & { valLoss: number; perplexity: number; tokensPerSecond: number };
  assert.equal(summary.status, 'Succeeded', result.stderr);
  // Evaluated every 4 steps: the progress lines show it, the summary has the last one.
  assert.match(result.stderr, /^step 4\/8 .*val loss \d+\.\d+ ppl \d+\.\d+/m);
  assert.ok(Number.isFinite(summary.valLoss) && summary.valLoss > 0);
  assert.equal(summary.perplexity, Math.exp(summary.valLoss));
  assert.equal(summary.tokensPerSecond, summary.samplesPerSecond * 8, '8 tokens per window');
  return workspace;
}

async function generate(dir: string, ...args: string[]): Promise<Generated> {
  const result = await runCli(['generate', dir, '--prompt', 'Call me', '--max-tokens', '24', '--json', ...args]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout.trim()) as Generated;
}

before(async () => {
  [threeStages, oneStage] = await Promise.all([trained(3), trained(1)]);
});

test('the same seed gives the same text; another seed another', { timeout: 120_000 }, async () => {
  const [a, b, c] = await Promise.all([
    generate(threeStages.checkpoints, '--seed', '3', '--temperature', '1'),
    generate(threeStages.checkpoints, '--seed', '3', '--temperature', '1'),
    generate(threeStages.checkpoints, '--seed', '4', '--temperature', '1'),
  ]);
  assert.equal(a.tokens.length, 24);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.tokens, c.tokens);
  assert.equal(a.promptTokens.length, 'Call me'.length, 'char level: one token per character');
});

test('temperature 0 is greedy: every token is the argmax of the model\'s logits', { timeout: 120_000 }, async () => {
  const [greedy, otherSeed] = await Promise.all([
    generate(threeStages.checkpoints, '--temperature', '0', '--seed', '1'),
    generate(threeStages.checkpoints, '--temperature', '0', '--seed', '2'),
  ]);
  assert.deepEqual(greedy, otherSeed, 'no randomness at temperature 0');
  await initBackend('cpu');
  const checkpoint = await readLanguageModelCheckpoint(threeStages.checkpoints, { log: () => {} });
  const model = trainedModel(checkpoint.description.model, checkpoint.description.seed, checkpoint.weights);
  try {
    const context = [...greedy.promptTokens];
    for (const token of greedy.tokens) {
      const logits = model.nextLogits(context.slice(-model.window));
      const best = logits.indexOf(Math.max(...logits));
      assert.equal(token, best);
      context.push(token);
    }
  } finally {
    model.dispose();
  }
});

test('a checkpoint written by 3 stages samples like one written by 1; --step picks an older one', { timeout: 120_000 }, async () => {
  const [fromThree, fromOne, older] = await Promise.all([
    generate(threeStages.checkpoints, '--seed', '5'),
    generate(oneStage.checkpoints, '--seed', '5'),
    generate(threeStages.checkpoints, '--seed', '5', '--step', '4'),
  ]);
  assert.deepEqual(fromThree, fromOne);
  assert.notDeepEqual(older.tokens, fromThree.tokens, 'step 4 has other weights than step 8');
});

test('a missing step and a prompt outside the vocabulary are one-line errors', { timeout: 120_000 }, async () => {
  const missing = await runCli(['generate', threeStages.checkpoints, '--prompt', 'Call', '--step', '5']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no committed checkpoint of step 5; committed steps: 8, 4/);
  const outside = await runCli(['generate', threeStages.checkpoints, '--prompt', 'Call me \u{1F40B}']);
  assert.equal(outside.code, 1);
  assert.match(outside.stderr, /^error: .*vocabulary/m);
  await Promise.all([threeStages.dir, oneStage.dir].map((dir) => rm(dir, { recursive: true, force: true })));
});
