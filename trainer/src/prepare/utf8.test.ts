import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Utf8Validator, firstInvalidUtf8 } from './utf8.ts';

test('valid UTF-8 of every length passes', () => {
  assert.equal(firstInvalidUtf8(Buffer.from('a é 日 😀', 'utf8')), -1);
});

test('names the offset of the first invalid sequence', () => {
  assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xff, 0x63])), 2);
  assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0x80])), 1, 'overlong 2-byte form');
  assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0xed, 0xa0, 0x80])), 1, 'UTF-16 surrogate');
  assert.equal(firstInvalidUtf8(Buffer.from([0xf4, 0x90, 0x80, 0x80])), 0, 'above U+10FFFF');
  assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xe6, 0x97])), 2, 'truncated at the end');
});

test('a sequence split across two feeds is still valid', () => {
  const bytes = Buffer.from('x😀', 'utf8');
  const validator = new Utf8Validator();
  assert.equal(validator.feed(bytes.subarray(0, 3)), -1);
  assert.equal(validator.feed(bytes.subarray(3)), -1);
  assert.equal(validator.finish(), -1);
});
