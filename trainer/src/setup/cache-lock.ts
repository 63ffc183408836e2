// One writer at a time per cache folder: caches are shared by every checkout on a machine (the
// TensorFlow libraries here; the control-plane tools and the images in test/), and two runs would
// download the same hundreds of MB and replace each other's files.
//
// The lock is a folder holding the owner's pid. It is made whole in a temporary folder and renamed
// into place, so it never exists without its pid (rename onto an existing folder fails, so exactly
// one process wins). A lock whose owner is gone is removed under a second lock, the take-over lock:
// only its holder removes stale locks, after checking again that the lock is still the stale one,
// so of several waiters on one stale lock exactly one removes it and no fresh lock is ever removed.
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LockEvents {
  /** Another live process holds the lock: said once, before waiting. */
  onWait?(pid: number): void;
  /** A lock whose owner died (pid), or with an unreadable pid (undefined), is being taken over. */
  onTakeOver?(pid: number | undefined): void;
}

/**
 * A lock folder without a readable pid (older pipetrain versions made the folder first and wrote the
 * pid after; an empty one is simply replaced by the rename) is stale after this long (ms).
 */
const PIDLESS_STALE_MS = 10_000;
const POLL_MS = 1000;

export async function withCacheLock<T>(lockDir: string, events: LockEvents, work: () => Promise<T>): Promise<T> {
  let waited = false;
  while (!tryCreateLock(lockDir)) {
    const owner = lockOwner(lockDir);
    if (isStale(lockDir, owner)) {
      if (removeStaleLock(lockDir, owner)) events.onTakeOver?.(owner);
      continue;
    }
    if (!waited && owner !== undefined) events.onWait?.(owner);
    waited = true;
    await sleep(POLL_MS);
  }
  // Released on every way out, also process.exit in `work`; never another process's lock.
  const release = (): void => releaseOwnLock(lockDir);
  process.once('exit', release);
  try {
    return await work();
  } finally {
    release();
    process.removeListener('exit', release);
  }
}

/** Makes the lock folder, pid inside, in one rename; false when another lock is in place. */
function tryCreateLock(lockDir: string): boolean {
  mkdirSync(dirname(lockDir), { recursive: true });
  const temp = mkdtempSync(`${lockDir}.new-`);
  writeFileSync(`${temp}/pid`, String(process.pid));
  try {
    renameSync(temp, lockDir);
    return true;
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    if (['EEXIST', 'ENOTEMPTY', 'EISDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return false;
    throw error;
  }
}

function releaseOwnLock(lockDir: string): void {
  if (lockOwner(lockDir) === process.pid) removeLock(lockDir);
}

/**
 * Renamed aside first, then deleted: removing in place would leave an empty folder for a moment,
 * and rename() replaces an empty folder, so a new lock made in that moment would be deleted with it.
 */
function removeLock(lockDir: string): void {
  const gone = `${lockDir}.gone-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  try {
    renameSync(lockDir, gone);
  } catch {
    return; // removed already
  }
  rmSync(gone, { recursive: true, force: true });
}

/**
 * Under the take-over lock, removes `lockDir` if it still is the stale lock of `staleOwner`. Returns
 * false when another process is taking over (it is then waited for) or the lock changed meanwhile.
 * A take-over lock left by a process that died while holding it is stale in turn and is removed the
 * same way, by moving it aside (the one remaining race: two processes finding a dead take-over lock
 * within the same instant, after a process died inside its take-over of a few milliseconds).
 */
function removeStaleLock(lockDir: string, staleOwner: number | undefined): boolean {
  const takeOverLock = `${lockDir}.takeover`;
  if (!tryCreateLock(takeOverLock)) {
    const owner = lockOwner(takeOverLock);
    if (owner !== undefined && !isAlive(owner)) moveAsideIfOwnedBy(takeOverLock, owner);
    return false;
  }
  try {
    const owner = lockOwner(lockDir);
    if (owner !== staleOwner || !isStale(lockDir, owner)) return false;
    removeLock(lockDir);
    return true;
  } finally {
    releaseOwnLock(takeOverLock);
  }
}

function moveAsideIfOwnedBy(lockDir: string, owner: number): void {
  const aside = `${lockDir}.stale-${process.pid}`;
  try {
    renameSync(lockDir, aside);
  } catch {
    return; // gone already
  }
  if (lockOwner(aside) === owner) {
    rmSync(aside, { recursive: true, force: true });
    return;
  }
  // A fresh take-over lock was made meanwhile: put it back, or two processes would take over at once.
  try {
    renameSync(aside, lockDir);
  } catch {
    rmSync(aside, { recursive: true, force: true }); // a third one is in place already (the race named above)
  }
}

function isStale(lockDir: string, owner: number | undefined): boolean {
  return owner === undefined ? !isFresh(lockDir) : !isAlive(owner);
}

function lockOwner(lockDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(`${lockDir}/pid`, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined; // removed meanwhile, or a folder of an older pipetrain without its pid yet
  }
}

/** A pid-less lock folder is young enough that an older pipetrain may still be writing its pid. */
function isFresh(lockDir: string): boolean {
  try {
    return Date.now() - statSync(lockDir).mtimeMs < PIDLESS_STALE_MS;
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
