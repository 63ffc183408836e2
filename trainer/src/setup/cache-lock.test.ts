import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
    withCacheLock(lock, () => {}, async () => { order.push('first start'); await sleep(1200); order.push('first end'); }),
    sleep(50).then(() => withCacheLock(lock, (pid) => waits.push(pid), async () => { order.push('second'); })),
  ]);
  assert.deepEqual(order, ['first start', 'first end', 'second']);
  assert.deepEqual(waits, [process.pid]);
  assert.equal(existsSync(lock), false);
});

test('a lock whose owner is gone is taken over', async () => {
  const lock = join(root, 'b.lock');
  mkdirSync(lock);
  writeFileSync(join(lock, 'pid'), '2147483646'); // no such process
  assert.equal(await withCacheLock(lock, () => assert.fail('must not wait'), async () => 'ran'), 'ran');
});
