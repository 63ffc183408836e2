// The build lock: one holder at a time; the lock of a process that died is taken over.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { withLock } from './lock.ts';

test('withLock runs holders one after the other and removes the lock', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipetrain-lock-'));
  const lock = join(dir, 'lock');
  const order: string[] = [];
  const holder = (name: string) => withLock(lock, () => undefined, async () => {
    order.push(`${name} in`);
    await new Promise((r) => setTimeout(r, 50));
    order.push(`${name} out`);
  });
  await Promise.all([holder('a'), new Promise((r) => setTimeout(r, 10)).then(() => holder('b'))]);
  assert.deepEqual(order, ['a in', 'a out', 'b in', 'b out']);
  assert.equal(existsSync(lock), false);
  rmSync(dir, { recursive: true });
});

test('a lock whose owner is dead is taken over, and says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipetrain-lock-'));
  const lock = join(dir, 'lock');
  mkdirSync(lock);
  writeFileSync(join(lock, 'pid'), '2147483646'); // no such process
  const lines: string[] = [];
  assert.equal(await withLock(lock, (line) => lines.push(line), async () => 42), 42);
  assert.match(lines.join('\n'), /removing stale lock of pid 2147483646/);
  rmSync(dir, { recursive: true });
});
