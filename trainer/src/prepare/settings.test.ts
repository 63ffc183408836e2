import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flagName, parsePrepareSettings, PrepareSettingsError, settingHelp } from './settings.ts';

test('defaults fill every optional setting', () => {
  const settings = parsePrepareSettings({ input: ['corpus'], tokenizer: 'char' });
  assert.equal(settings.valFraction, 0.1);
  assert.equal(settings.splitBy, 'tokens');
  assert.equal(settings.nearDuplicateThreshold, 0.8);
  assert.equal(settings.seed, 1);
});

test('a wrong value names the field, or its flag', () => {
  assert.throws(() => parsePrepareSettings({ input: ['a'], tokenizer: 'bpe' }), (error: Error) => error instanceof PrepareSettingsError && /^tokenizer: /.test(error.message));
  assert.throws(() => parsePrepareSettings({ input: ['a'], tokenizer: 'char', valFraction: 1 }, flagName), /^Error: --val-fraction: /);
  assert.throws(() => parsePrepareSettings({ input: ['a'], tokenizer: 'char', extra: 1 }), /Unrecognized key/);
  assert.throws(() => parsePrepareSettings({ input: [], tokenizer: 'char' }, flagName), /^Error: --input: /);
});

test('flag names and help come from the schema', () => {
  assert.equal(flagName('valFraction'), '--val-fraction');
  assert.equal(flagName('minhashPermutations'), '--minhash-permutations');
  assert.match(settingHelp('valFraction'), /^share of the token stream/);
});
