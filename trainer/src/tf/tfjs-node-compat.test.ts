import { test } from 'node:test';
import assert from 'node:assert/strict';
import util from 'node:util';
import { installTfjsNodeCompat } from './tfjs-node-compat.ts';

test('puts back the node:util helpers tfjs-node 4.22 calls per op, with their old meaning', () => {
  installTfjsNodeCompat();
  const legacy = util as unknown as { isNullOrUndefined(v: unknown): boolean; isArray(v: unknown): boolean };
  assert.deepEqual([null, undefined, 0, '', false].map((v) => legacy.isNullOrUndefined(v)), [true, true, false, false, false]);
  assert.equal(legacy.isArray, Array.isArray);
  installTfjsNodeCompat(); // idempotent
  assert.equal(legacy.isNullOrUndefined(null), true);
});
