import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ItemBackoff } from './backoff.ts';
import { FakeClock } from './clock.ts';
import { WorkQueue } from './queue.ts';

test('many adds of one key before a worker takes it coalesce into one', async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  for (let i = 0; i < 5; i++) queue.add('ns/a');
  queue.add('ns/b');
  assert.equal(queue.len(), 2);
  assert.equal(await queue.get(), 'ns/a');
  assert.equal(await queue.get(), 'ns/b');
  assert.equal(queue.len(), 0);
});

test('a key added while processing is not handed out twice, and runs again after done', async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  queue.add('k');
  const key = await queue.get();
  assert.equal(key, 'k');
  queue.add('k');
  queue.add('k');
  assert.equal(queue.len(), 0, 'not queued while a worker holds it');
  queue.done('k');
  assert.equal(queue.len(), 1);
  assert.equal(await queue.get(), 'k');
  queue.done('k');
  assert.equal(queue.len(), 0);
});

test('a waiting worker gets a key as soon as it is added', async () => {
  const queue = new WorkQueue({ clock: new FakeClock() });
  const next = queue.get();
  queue.add('x');
  assert.equal(await next, 'x');
});

test('addAfter fires at the time; the earliest pending delay wins', async () => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock });
  queue.addAfter('k', 1000);
  queue.addAfter('k', 5000);
  clock.advance(999);
  assert.equal(queue.len(), 0);
  clock.advance(1);
  assert.equal(queue.len(), 1);
  assert.equal(clock.pending(), 0, 'the later add was dropped');
  assert.equal(await queue.get(), 'k');
});

test('addRateLimited backs off exponentially per key until forget', () => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock, backoff: new ItemBackoff({ baseMs: 100, maxMs: 1000 }) });
  queue.addRateLimited('k');
  clock.advance(99);
  assert.equal(queue.len(), 0);
  clock.advance(1);
  assert.equal(queue.len(), 1);
  queue.addRateLimited('j');
  queue.addRateLimited('j');
  assert.equal(queue.retries('j'), 2);
  queue.forget('j');
  assert.equal(queue.retries('j'), 0);
});

test('shutDown releases waiting workers and ignores later adds', async () => {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock });
  const waiting = queue.get();
  queue.addAfter('late', 10);
  queue.shutDown();
  assert.equal(await waiting, undefined);
  clock.advance(100);
  queue.add('k');
  assert.equal(await queue.get(), undefined);
});

test('hooks see depth, adds, queue time and work time', async () => {
  const clock = new FakeClock();
  const seen: string[] = [];
  const queue = new WorkQueue({
    clock,
    hooks: { depth: (d) => seen.push(`depth ${d}`), added: () => seen.push('add'), queued: (s) => seen.push(`queued ${s}`), worked: (s) => seen.push(`worked ${s}`) },
  });
  queue.add('k');
  clock.advance(2000);
  await queue.get();
  clock.advance(500);
  queue.done('k');
  assert.deepEqual(seen, ['add', 'depth 1', 'queued 2', 'depth 0', 'worked 0.5']);
});
