import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanLines } from './clean.ts';

test('ordinary text passes unchanged, indentation and tabs at line starts included', () => {
  const ordinary = 'Call me Ishmael. Some years ago—never mind how long precisely—\n\n     "Whale." —Webster\nCafé, naïve, 日本語, Ελληνικά.';
  assert.equal(cleanLines(ordinary), ordinary);
  assert.equal(cleanLines('\tindented\n'), '\tindented\n');
});

test('NFC: a decomposed é becomes one code point', () => {
  assert.equal(cleanLines('Cafe\u0301'), 'Caf\u00e9');
});

test('control characters go, tab and newline stay; odd line breaks become newlines', () => {
  assert.equal(cleanLines('\ufeffa\u0000b\u0007c\u009fd'), 'abcd');
  assert.equal(cleanLines('one\u2028two\u0085three\u2029four'), 'one\ntwo\nthree\nfour');
});

test('whitespace: odd spaces become spaces, trailing spaces go, inner runs become one space', () => {
  assert.equal(cleanLines('a\u00a0b\u3000c'), 'a b c');
  assert.equal(cleanLines('end.   Next\tword  \nline \t'), 'end. Next word\nline');
  assert.equal(cleanLines('  two leading kept'), '  two leading kept');
});

test('keeps the number of lines', () => {
  const text = 'a  \n\n\u0007\nb';
  assert.equal(cleanLines(text).split('\n').length, text.split('\n').length);
});
