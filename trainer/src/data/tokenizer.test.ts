import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataError } from './dataset.ts';
import { charTokenizer, charVocabulary, GPT2_END_OF_TEXT, gpt2Tokenizer } from './tokenizer.ts';

test('char vocabulary is the sorted set of code points, and round-trips', () => {
  const text = 'Call me Ishmael. Ünïcödé 🐋\n';
  const vocab = charVocabulary(text);
  assert.deepEqual(vocab, [...new Set(text)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  assert.ok(vocab.includes('🐋'), 'an astral character is one token');
  const tokenizer = charTokenizer(vocab);
  assert.equal(tokenizer.decode(tokenizer.encode(text)), text);
});

test('char tokenizer names a character outside its vocabulary', () => {
  const tokenizer = charTokenizer(['a', 'b']);
  assert.throws(() => tokenizer.encode('abc'), (error: Error) => error instanceof DataError && /"c" \(U\+0063\)/.test(error.message));
  assert.throws(() => tokenizer.decode([2]), /outside the vocabulary/);
});

test('gpt2 tokenizer round-trips and treats special-token text as text', async () => {
  const tokenizer = await gpt2Tokenizer();
  const text = 'Call me Ishmael. <|endoftext|> Some years ago';
  const ids = tokenizer.encode(text);
  assert.ok(!ids.includes(GPT2_END_OF_TEXT));
  assert.equal(tokenizer.decode(ids), text);
  assert.deepEqual(tokenizer.encode('Hello world'), [15496, 995]); // GPT-2's ids, as tiktoken gives them
});
