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

test('a table doubles when more than maxLoad of its slots are taken', () => {
  const half = new HashMap64(16);
  const full = new HashMap64(16, 0.75);
  for (let i = 0; i < 24; i++) {
    half.set(i, i * 3, i);
    full.set(i, i * 3, i);
  }
  assert.equal(half.bytes, 64 * 12, '24 keys at a load of at most 0.5: 64 slots');
  assert.equal(full.bytes, 32 * 12, '24 keys at a load of at most 0.75: 32 slots');
  full.set(99, 99, 99);
  assert.equal(full.bytes, 64 * 12, 'the 25th key passes 0.75 of 32 slots');
  for (let i = 0; i < 24; i++) assert.equal(full.get(i, i * 3), i);
  assert.throws(() => new HashSet64(16, 1), /maxLoad 1: expected a share between 0 and 1/);
});
