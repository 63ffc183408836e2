import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DTYPE_BY_CODE, DTYPE_CODE, ELEMENT_BYTES, FrameKind, frameKindName, isKnownKind } from './kinds.ts';

void test('frame kinds are distinct u8 values with names', () => {
  const values = Object.values(FrameKind);
  assert.equal(new Set(values).size, values.length);
  for (const value of values) assert.ok(value > 0 && value < 256 && isKnownKind(value));
  assert.equal(frameKindName(FrameKind.Gradient), 'Gradient');
  assert.equal(frameKindName(77), '77');
  assert.equal(isKnownKind(0), false);
});

void test('dtype codes map back to the same dtype and element size', () => {
  for (const [dtype, code] of Object.entries(DTYPE_CODE)) {
    const info = DTYPE_BY_CODE[code];
    assert.equal(info?.dtype, dtype);
    assert.equal(info?.bytes, ELEMENT_BYTES[info.dtype]);
    assert.equal(info?.array.BYTES_PER_ELEMENT, info?.bytes);
  }
});
