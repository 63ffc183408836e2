import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ItemBackoff, exponentialDelay, withJitter } from './backoff.ts';

test('exponentialDelay doubles from the base and stops at the cap', () => {
  const options = { baseMs: 5, maxMs: 1000 };
  assert.deepEqual([0, 1, 2, 3, 4].map((n) => exponentialDelay(n, options)), [0, 5, 10, 20, 40]);
  assert.equal(exponentialDelay(20, options), 1000);
  assert.equal(exponentialDelay(5000, options), 1000, 'no overflow for huge counts');
});

test('ItemBackoff counts failures per key and forgets on success', () => {
  const backoff = new ItemBackoff({ baseMs: 10, maxMs: 100 });
  assert.equal(backoff.next('a'), 10);
  assert.equal(backoff.next('a'), 20);
  assert.equal(backoff.next('b'), 10, 'keys are independent');
  assert.equal(backoff.retries('a'), 2);
  backoff.forget('a');
  assert.equal(backoff.next('a'), 10);
});

test('withJitter adds at most the fraction', () => {
  assert.equal(withJitter(100, 0.5, () => 0), 100);
  assert.equal(withJitter(100, 0.5, () => 1), 150);
});
