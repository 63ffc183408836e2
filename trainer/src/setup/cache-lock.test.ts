import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { withCacheLock } from './cache-lock.ts';

const root = mkdtempSync(join(tmpdir(), 'pipetrain-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('callers run one at a time, and the second is told whom it waits for', async () => {
  const lock = join(root, 'a.lock');
  const order: string[] = [];
  const waits: number[] = [];
  await Promise.all([
    withCacheLock(lock, {}, async () => { order.push('first start'); await sleep(1200); order.push('first end'); }),
    sleep(50).then(() => withCacheLock(lock, { onWait: (pid) => waits.push(pid) }, async () => { order.push('second'); })),
  ]);
  assert.deepEqual(order, ['first start', 'first end', 'second']);
  assert.deepEqual(waits, [process.pid]);
  assert.equal(existsSync(lock), false);
});

test('a lock whose owner is gone is taken over', async () => {
  const lock = join(root, 'b.lock');
  mkdirSync(lock);
  writeFileSync(join(lock, 'pid'), '2147483646'); // no such process
  assert.equal(await withCacheLock(lock, { onWait: () => assert.fail('must not wait') }, async () => 'ran'), 'ran');
});

test('a holder never removes a lock that is no longer its own', async () => {
  const lock = join(root, 'c.lock');
  await withCacheLock(lock, {}, async () => {
    // As if another process had taken the lock over meanwhile (this one looked dead to it).
    writeFileSync(join(lock, 'pid'), '1');
  });
  assert.equal(existsSync(join(lock, 'pid')), true, "the other owner's lock was removed");
  rmSync(lock, { recursive: true, force: true });
});

test('a lock without a pid that is old is taken over, and the take-over is reported', async () => {
  const lock = join(root, 'd.lock');
  mkdirSync(lock);
  const old = new Date(Date.now() - 60_000);
  utimesSync(lock, old, old);
  const taken: Array<number | undefined> = [];
  assert.equal(await withCacheLock(lock, { onTakeOver: (pid) => taken.push(pid) }, async () => 'ran'), 'ran');
  assert.deepEqual(taken, [undefined]);
  assert.equal(existsSync(`${lock}.stale-${process.pid}`), false, 'the moved-aside lock is removed');
});
