import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HashMap64, HashSet64 } from './hash-set.ts';

test('a set adds, finds and deletes 64-bit keys through many growths', () => {
  const set = new HashSet64();
  for (let i = 0; i < 5000; i++) assert.equal(set.add(i * 7919, i), true);
  assert.equal(set.size, 5000);
  assert.equal(set.add(7919 * 3, 3), false, 'already there');
  for (let i = 0; i < 5000; i++) assert.equal(set.has(i * 7919, i), true);
  assert.equal(set.has(1, 2), false);
  for (let i = 0; i < 5000; i += 2) assert.equal(set.delete(i * 7919, i), true);
  for (let i = 0; i < 5000; i++) assert.equal(set.has(i * 7919, i), i % 2 === 1, `key ${i}`);
  assert.equal(set.size, 2500);
  assert.ok(set.bytes >= 2500 * 16);
});

test('keys differing only in the lowest bit of their low half are one key (63 bits are kept)', () => {
  const set = new HashSet64();
  set.add(5, 2);
  assert.equal(set.has(5, 3), true);
});

test('colliding home slots stay findable after a delete (backward shift)', () => {
  const set = new HashSet64(4);
  // Same hi low bits: same home slot.
  for (const lo of [1, 3, 5, 7]) set.add(0x100, lo);
  set.delete(0x100, 3);
  for (const lo of [1, 5, 7]) assert.equal(set.has(0x100, lo), true);
});

test('a map stores values, overwrites them and keeps them through growth', () => {
  const map = new HashMap64();
  for (let i = 0; i < 3000; i++) map.set(i, i * 3, i + 10);
  map.set(7, 21, 99);
  assert.equal(map.get(7, 21), 99);
  assert.equal(map.get(2999, 2999 * 3), 3009);
  assert.equal(map.get(1, 1), -1);
  assert.equal(map.size, 3000);
});
