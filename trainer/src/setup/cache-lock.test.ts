import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
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

test('a lock without a readable pid that is old is taken over, and the take-over is reported', async () => {
  const lock = join(root, 'd.lock');
  mkdirSync(lock);
  writeFileSync(join(lock, 'pid'), ''); // an older pipetrain made the folder, then died before writing its pid
  const old = new Date(Date.now() - 60_000);
  utimesSync(lock, old, old);
  const taken: Array<number | undefined> = [];
  assert.equal(await withCacheLock(lock, { onTakeOver: (pid) => taken.push(pid) }, async () => 'ran'), 'ran');
  assert.deepEqual(taken, [undefined]);
  assert.equal(existsSync(`${lock}.stale-${process.pid}`), false, 'the moved-aside lock is removed');
});

test('of several processes waiting on one stale lock, one at a time holds it', async () => {
  const lock = join(root, 'e.lock');
  mkdirSync(lock);
  writeFileSync(join(lock, 'pid'), '2147483646'); // no such process
  const log = join(root, 'e.log');
  const script = `
    import { appendFileSync } from 'node:fs';
    import { withCacheLock } from ${JSON.stringify(new URL('./cache-lock.ts', import.meta.url).href)};
    const [lock, log] = process.argv.slice(-2);
    await withCacheLock(lock, {}, async () => {
      appendFileSync(log, 'in\\n');
      await new Promise((resolve) => setTimeout(resolve, 300));
      appendFileSync(log, 'out\\n');
    });`;
  const children = [0, 1, 2, 3].map(() => spawn(process.execPath, ['--input-type=module', '-e', script, lock, log], { stdio: 'inherit' }));
  const codes = await Promise.all(children.map((child) => new Promise((resolve) => child.on('exit', resolve))));
  assert.deepEqual(codes, [0, 0, 0, 0]);
  // Strictly alternating: nobody entered while another was inside.
  assert.equal(readFileSync(log, 'utf8'), 'in\nout\n'.repeat(4));
  assert.equal(existsSync(lock), false);
  assert.equal(existsSync(`${lock}.takeover`), false);
});

test('the lock never exists without its pid: it is renamed into place whole', async () => {
  const lock = join(root, 'f.lock');
  await withCacheLock(lock, {}, async () => {
    assert.equal(readFileSync(join(lock, 'pid'), 'utf8'), String(process.pid));
    assert.deepEqual(readdirSync(root).filter((name) => name.startsWith('f.lock.new-')), [], 'the temporary folder is gone');
  });
});
