// One writer at a time per cache folder: caches are shared by every checkout on a machine (the
// TensorFlow libraries here; the control-plane tools and the images in test/), and two runs would
// download the same hundreds of MB and replace each other's files. mkdir is atomic, so a lock folder
// holding the owner's pid is the lock; a lock whose owner is gone is taken over.
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LockEvents {
  /** Another live process holds the lock: said once, before waiting. */
  onWait?(pid: number): void;
  /** A lock whose owner died (pid), or that never got one (undefined), is being taken over. */
  onTakeOver?(pid: number | undefined): void;
}

export async function withCacheLock<T>(lockDir: string, events: LockEvents, work: () => Promise<T>): Promise<T> {
  let waited = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(`${lockDir}/pid`, String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = lockOwner(lockDir);
      if (owner === undefined ? !isFresh(lockDir) : !isAlive(owner)) {
        if (takeOver(lockDir, owner)) events.onTakeOver?.(owner);
        continue;
      }
      if (!waited && owner !== undefined) events.onWait?.(owner);
      waited = true;
      await sleep(1000);
    }
  }
  // Released on every way out, also process.exit in `work`; never another process's lock.
  const release = (): void => {
    if (lockOwner(lockDir) === process.pid) rmSync(lockDir, { recursive: true, force: true });
  };
  process.once('exit', release);
  try {
    return await work();
  } finally {
    release();
    process.removeListener('exit', release);
  }
}

/**
 * Moves the stale lock aside, then removes it. Two waiters may judge the same lock stale: the first
 * rename wins, and the second may then have moved the winner's fresh lock, which it sees by its
 * owner and puts back. Deleting in place instead could delete the winner's lock.
 */
function takeOver(lockDir: string, staleOwner: number | undefined): boolean {
  const aside = `${lockDir}.stale-${process.pid}`;
  try {
    renameSync(lockDir, aside);
  } catch {
    return false; // gone already: somebody else took it over
  }
  if (lockOwner(aside) !== staleOwner) {
    try {
      renameSync(aside, lockDir);
    } catch {
      // A third process made a lock meanwhile (three at once on one stale lock): the aside folder is left.
    }
    return false;
  }
  rmSync(aside, { recursive: true, force: true });
  return true;
}

function lockOwner(lockDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(`${lockDir}/pid`, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined; // created but not written yet, or removed meanwhile
  }
}

/** A lock folder without a pid is being created right now, unless it is old (its owner died). */
function isFresh(lockDir: string): boolean {
  try {
    return Date.now() - statSync(lockDir).mtimeMs < 10_000;
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
