import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SendBufferPool } from './send-buffers.ts';

void test('buffers are reused per exact size', () => {
  const pool = new SendBufferPool(1 << 20);
  const a = pool.acquire(8192);
  assert.equal(a.length, 8192);
  pool.release(a);
  assert.equal(pool.idleBytes, 8192);
  assert.notEqual(pool.acquire(8200), a, 'another size gets a new buffer');
  assert.equal(pool.acquire(8192), a);
  assert.equal(pool.idleBytes, 0);
});

void test('idle memory is bounded and small buffers are not kept', () => {
  const pool = new SendBufferPool(20_000);
  pool.release(Buffer.alloc(100));
  assert.equal(pool.idleBytes, 0);
  pool.release(Buffer.alloc(10_000));
  pool.release(Buffer.alloc(10_000));
  pool.release(Buffer.alloc(10_000));
  assert.equal(pool.idleBytes, 20_000);
  pool.clear();
  assert.equal(pool.idleBytes, 0);
});
