// One setup at a time per cache folder: the cache is shared by every checkout on a machine, and two
// runs would download the same 200 MB and replace each other's files. A lock folder holds the
// owner's pid; a lock whose owner is gone is taken over.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export async function withCacheLock<T>(lockDir: string, onWait: (pid: number) => void, work: () => Promise<T>): Promise<T> {
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
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (!waited && owner !== undefined) onWait(owner);
      waited = true;
      await sleep(1000);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
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
