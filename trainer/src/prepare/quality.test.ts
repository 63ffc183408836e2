import assert from 'node:assert/strict';
import { test } from 'node:test';
import { qualityReason, repeatedLineShare, symbolShare } from './quality.ts';

const limits = { minChars: 10, maxChars: 100, maxSymbolShare: 0.3, maxRepeatedLineShare: 0.3 };

test('symbol share counts non-letters among non-space characters, letters of any script included', () => {
  assert.equal(symbolShare('abc def'), 0);
  assert.equal(symbolShare('ab 12'), 0.5);
  assert.equal(symbolShare('日本語 é ü'), 0);
  assert.equal(symbolShare('a€'), 0.5);
  assert.equal(symbolShare('   '), 0);
});

test('repeated line share counts non-blank lines equal to an earlier one', () => {
  assert.equal(repeatedLineShare('a\nb\n\na\n a '), 0.5);
  assert.equal(repeatedLineShare('a\nb'), 0);
  assert.equal(repeatedLineShare(''), 0);
});

test('the filters give the first failing reason', () => {
  assert.equal(qualityReason('', limits), 'empty');
  assert.equal(qualityReason('too short', limits), 'too-short');
  assert.equal(qualityReason('x'.repeat(101), limits), 'too-long');
  assert.equal(qualityReason('$$$ %%% ### words', limits), 'too-many-symbols');
  assert.equal(qualityReason('same line\nsame line\nsame line\nother', limits), 'too-many-repeated-lines');
  assert.equal(qualityReason('An ordinary sentence, with a comma.', limits), undefined);
});
