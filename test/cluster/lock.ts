// A lock directory shared by processes that build into one cache (the control-plane tools, the
// images): mkdir is atomic, the owner's pid is written inside, and a lock whose owner died is taken over.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock directory (mkdir is atomic) holding the owner's pid; a lock whose owner died is taken over. */
export async function withLock<T>(lockDir: string, log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = NaN;
      try {
        owner = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
      } catch {
        // The owner may be between mkdir and writing its pid.
      }
      const age = Date.now() - (statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if ((Number.isInteger(owner) && owner > 0 && !pidAlive(owner)) || (Number.isNaN(owner) && age > 10_000)) {
        log(`removing stale lock of ${Number.isNaN(owner) ? 'an unknown process' : `pid ${owner}`}`);
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (!announced) log(`waiting for pid ${owner} which holds ${lockDir}`);
      announced = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const release = (): void => {
    try {
      if (readFileSync(join(lockDir, 'pid'), 'utf8') === String(process.pid)) rmSync(lockDir, { recursive: true, force: true });
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  try {
    return await fn();
  } finally {
    release();
    process.removeListener('exit', release);
  }
}
