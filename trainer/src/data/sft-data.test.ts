import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinySftJob, writeDemonstrations } from '../../../test/support/sft-jobs.ts';
import { writeTokenFolder } from '../../../test/support/token-folders.ts';
import { DataError } from './dataset.ts';
import { completionTargets, loadSftData } from './sft-data.ts';
import { checkSameTokenizer } from './sft-tokenizer.ts';

const load = (file: string, dataset: Record<string, unknown> = {}, spec: Record<string, unknown> = {}) => loadSftData(tinySftJob(file, spec, dataset), '/');

/** The rows of sample `i` as strings of the char vocabulary ('_' where the mask is 0). */
function row(data: Awaited<ReturnType<typeof loadSftData>>, i: number) {
  const { window, inputs, targets, mask } = data.train;
  const vocab = data.tokenizer.type === 'char' ? data.tokenizer.vocab : [];
  const at = (ids: ArrayLike<number>, j: number) => vocab[ids[i * window + j]!]!;
  return {
    input: Array.from({ length: window }, (_, j) => at(inputs, j)).join(''),
    counted: Array.from({ length: window }, (_, j) => (mask[i * window + j] ? at(targets, j) : '_')).join(''),
  };
}

test('a sample is prompt + completion cut or padded to the window, its mask 1 only on completion targets', async () => {
  const file = await writeDemonstrations([{ prompt: 'ab', completion: 'cd' }, '', { prompt: 'abcdefg', completion: 'dcba' }, { prompt: '', completion: 'abc' }]);
  const data = await load(file, {}, { data: { dataset: { type: 'sft', path: file, tokenizer: { type: 'char' } }, batchSize: 1, validationSplit: 0 } });
  assert.deepEqual(data.tokenizer, { type: 'char', vocab: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] });
  assert.equal(data.train.count, 3);
  // Padding is id 0 ('a'); the targets of prompt positions and of padding are masked.
  assert.deepEqual(row(data, 0), { input: 'abcdaaaa', counted: '_cd_____' });
  // Cut at window + 1 = 9 tokens: 'abcdefgdc', the last token only a target.
  assert.deepEqual(row(data, 1), { input: 'abcdefgd', counted: '______dc' });
  // An empty prompt: the completion's first token is nobody's target.
  assert.deepEqual(row(data, 2), { input: 'abcaaaaa', counted: 'bc______' });
  assert.deepEqual([...data.train.completionTokens], [2, 2, 2]);
  assert.deepEqual([...data.train.lines], [1, 3, 4], 'blank lines are skipped, line numbers kept');
});

test('completion targets: 1 <= index <= window', () => {
  assert.equal(completionTargets(2, 2, 8), 2);
  assert.equal(completionTargets(7, 4, 8), 2);
  assert.equal(completionTargets(8, 4, 8), 1);
  assert.equal(completionTargets(9, 4, 8), 0);
  assert.equal(completionTargets(0, 1, 8), 0);
  assert.equal(completionTargets(3, 0, 8), 0);
});

test('demonstrations left without a completion token are skipped and counted; all of them is an error', async () => {
  const file = await writeDemonstrations([{ prompt: 'abcdefghij', completion: 'x' }, { prompt: 'a', completion: 'b' }, { prompt: 'b', completion: '' }]);
  const data = await load(file, {}, { data: { dataset: { type: 'sft', path: file, tokenizer: { type: 'char' } }, batchSize: 1, validationSplit: 0 } });
  assert.equal(data.train.count, 1);
  assert.deepEqual(data.skipped, { count: 2, lines: [1, 3] });
  const none = await writeDemonstrations([{ prompt: 'abcdefghij', completion: 'x' }]);
  await assert.rejects(load(none), (error: Error) => error instanceof DataError && error.message === `${none}: none of the 1 demonstrations has a completion token within the window of 8 tokens (spec.model.inputShape[0]): every prompt fills it; shorten the prompts or widen the window`);
});

test('the validation split holds out demonstrations (seeded), both parts in file order', async () => {
  const lines = Array.from({ length: 10 }, (_, i) => ({ prompt: 'a'.repeat(i % 5 + 1), completion: 'b' }));
  const data = await load(await writeDemonstrations(lines));
  assert.equal(data.validation.count, 2);
  assert.equal(data.train.count, 8);
  const all = [...data.train.lines, ...data.validation.lines].sort((a, b) => a - b);
  assert.deepEqual(all, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.ok([...data.train.lines].every((line, i, a) => i === 0 || a[i - 1]! < line));
});

test('custom fields', async () => {
  const file = await writeDemonstrations([{ question: 'ab', answer: 'c' }]);
  const data = await load(file, { promptField: 'question', completionField: 'answer' }, { data: { dataset: { type: 'sft', path: file, tokenizer: { type: 'char' }, promptField: 'question', completionField: 'answer' }, batchSize: 1, validationSplit: 0 } });
  assert.equal(data.train.count, 1);
});

test('bad input: each message names the file (and line and field) and the fix', async () => {
  const missing = join(await mkdtemp(join(tmpdir(), 'pipetrain-sft-')), 'nothing.jsonl');
  const cases: [string, (object | string)[] | undefined, RegExp][] = [
    ['missing file', undefined, /nothing\.jsonl: missing; spec\.data\.dataset\.path names the demonstrations file \(JSON Lines/],
    ['not JSON', [{ prompt: 'a', completion: 'b' }, '{"prompt": "a", '], /demos\.jsonl:2: not valid JSON \(.*\); each line must be one JSON object such as \{"prompt": "\.\.\.", "completion": "\.\.\."\}/],
    ['not an object', ['[1, 2]'], /demos\.jsonl:1: a demonstration must be a JSON object with "prompt" and "completion", got an array/],
    ['no completion', [{ prompt: 'a', answer: 'b' }], /demos\.jsonl:1: no "completion" field \(spec\.data\.dataset\.completionField\); the line has the keys "prompt", "answer"; add the field, or set completionField to the key that holds it/],
    ['no prompt', [{ completion: 'b' }], /demos\.jsonl:1: no "prompt" field \(spec\.data\.dataset\.promptField\)/],
    ['not a string', [{ prompt: 'a', completion: 3 }], /demos\.jsonl:1: "completion" must be a string, got number/],
    ['empty file', [''], /demos\.jsonl: no demonstrations \(the file is empty\); write one JSON object per line/],
  ];
  for (const [name, lines, expected] of cases) {
    const file = lines === undefined ? missing : await writeDemonstrations(lines);
    await assert.rejects(load(file), (error: Error) => error instanceof DataError && expected.test(error.message), name);
  }
});

test("a prepared folder's char tokenizer: a character it lacks names the line, the field and the fix", async () => {
  const folder = join(await mkdtemp(join(tmpdir(), 'pipetrain-sft-')), 'tokens');
  await writeTokenFolder(folder, 'abc abc abc cab');
  const file = await writeDemonstrations([{ prompt: 'ab ', completion: 'ca' }, { prompt: 'ab', completion: 'cz' }]);
  await assert.rejects(load(file, { tokenizer: { type: 'prepared', path: folder } }), (error: Error) =>
    error instanceof DataError &&
    error.message === `${file}:2: "completion" has the character "z" (U+007A), which the char tokenizer of the prepared folder ${folder} does not have (4 characters); ` +
      'remove or replace it in the demonstrations (the model has no id for it), or prepare the folder from text that has it and train the model on that');
  const good = await writeDemonstrations([{ prompt: 'ab ', completion: 'ca' }]);
  const data = await load(good, { tokenizer: { type: 'prepared', path: folder } }, { data: { dataset: { type: 'sft', path: good, tokenizer: { type: 'prepared', path: folder } }, batchSize: 1, validationSplit: 0 } });
  assert.deepEqual(data.tokenizer, { type: 'char', vocab: [' ', 'a', 'b', 'c'] }, "the folder's vocabulary, not the file's");
  assert.equal(data.vocabSize, 4);
  await assert.rejects(load(good, { tokenizer: { type: 'prepared', path: join(folder, 'none') } }), /none[/\\]meta\.json: missing; prepare the data first/);
});

test("a stated vocabSize other than the tokenizer's is refused, naming both", async () => {
  const file = await writeDemonstrations([{ prompt: 'ab', completion: 'c' }, { prompt: 'ba', completion: 'c' }]);
  const layers = [{ type: 'embedding', units: 16, vocabSize: 50 }, { type: 'positionalEmbedding', maxLength: 8 }, { type: 'lmHead', tied: true }];
  await assert.rejects(load(file, {}, { model: { inputShape: [8], layers, loss: 'tokenCrossentropy' } }), (error: Error) =>
    error.message.startsWith(`spec.model.layers[0].vocabSize: the model has a vocabulary of 50 tokens, but the tokenizer of the characters of ${file} has 3; remove vocabSize`));
});

test('a tokenizer other than the one the model was trained with is refused, naming both', () => {
  const folder = { spec: { type: 'char' as const, vocab: ['a', 'b', 'c'] }, source: 'the prepared folder data/x' };
  checkSameTokenizer(folder, { spec: { type: 'char', vocab: ['a', 'b', 'c'] }, source: 'the characters of demos.jsonl' });
  assert.throws(() => checkSameTokenizer(folder, { spec: { type: 'char', vocab: ['a', 'c'] }, source: 'the characters of demos.jsonl' }), (error: Error) =>
    error instanceof DataError &&
    error.message === 'spec.data.dataset.tokenizer: the model was trained with the tokenizer of the prepared folder data/x (char tokenizer, 3 characters), but the data is tokenized with that of the characters of demos.jsonl (char tokenizer, 2 characters); ' +
      'id 1 is "b" in one and "c" in the other; tokenize with the model\'s own: set spec.data.dataset.tokenizer to {type: prepared, path: <the folder the model was trained on>}');
  assert.throws(() => checkSameTokenizer(folder, { spec: { type: 'gpt2' }, source: 'spec.data.dataset.tokenizer (gpt2)' }), /char tokenizer, 3 characters\), but the data is tokenized with that of spec\.data\.dataset\.tokenizer \(gpt2\) \(GPT-2 BPE tokenizer\)/);
});

test('gpt2: prompt and completion are tokenized separately', async () => {
  const file = await writeDemonstrations([{ prompt: 'Hello', completion: ' world' }]);
  const data = await load(file, { tokenizer: { type: 'gpt2' } }, { data: { dataset: { type: 'sft', path: file, tokenizer: { type: 'gpt2' } }, batchSize: 1, validationSplit: 0 } });
  assert.equal(data.vocabSize, 50_257);
  assert.equal(data.train.completionTokens[0], 1, "' world' is one token, the target of 'Hello'");
});
