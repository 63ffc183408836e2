// Retention: old checkpoints are deleted only once a newer one is committed AND verifies, so the
// checkpoint a restart would resume from is never touched. Folders newer than the newest valid
// checkpoint (a step being written, or a corrupt one that a resumed run will rewrite) are left alone.
// A folder is first renamed to a unique ".deleting-..." name (atomic: readers see it whole or not
// at all, and of several processes deleting at once exactly one wins), then removed.
import { readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { COMMIT_FILE, listStepFolders, stepDir, stepDirName } from './layout.ts';
import { verifyCommitted } from './verify.ts';

const DELETING = '.deleting-';

/**
 * Keeps the newest committed checkpoint that fully verifies plus the `keep - 1` committed ones
 * before it (those checked by size only), and deletes every other step folder older than it,
 * committed or not. `verified` names a step the caller has just verified (e.g. committed), which is
 * then not hashed again. Returns the removed steps, newest first; [] when nothing verifies.
 */
export async function applyRetention(dir: string, keep: number, options: { verified?: number } = {}): Promise<number[]> {
  if (!(Number.isSafeInteger(keep) && keep >= 1)) throw new TypeError(`keep must be an integer >= 1; got ${String(keep)}.`);
  const steps = await listStepFolders(dir);
  const committed: number[] = [];
  for (const step of steps) if (await isFile(path.join(stepDir(dir, step), COMMIT_FILE))) committed.push(step);

  let newest: number | undefined;
  for (const step of committed) {
    const { problems } = await verifyCommitted(dir, step, step === options.verified ? 'sizes' : 'full');
    if (problems.length === 0) {
      newest = step;
      break;
    }
  }
  if (newest === undefined) return [];
  const kept = new Set([newest]);
  for (const step of committed.filter((s) => s < newest)) {
    if (kept.size >= keep) break;
    if ((await verifyCommitted(dir, step, 'sizes')).problems.length === 0) kept.add(step);
  }

  const removed: number[] = [];
  for (const step of steps.filter((s) => s < newest && !kept.has(s))) {
    if (await removeFolder(dir, stepDirName(step))) removed.push(step);
  }
  // Leftovers of a deleter that crashed between its rename and its rm.
  for (const name of (await readdir(dir)).filter((n) => n.startsWith(DELETING))) await rm(path.join(dir, name), { recursive: true, force: true }).catch(() => undefined);
  return removed;
}

/** Deletes one step folder crash-safely: renamed away first, so no reader ever sees it half gone. */
export function removeStepFolder(dir: string, step: number): Promise<boolean> {
  return removeFolder(dir, stepDirName(step));
}

async function removeFolder(dir: string, name: string): Promise<boolean> {
  const doomed = path.join(dir, `${DELETING}${name}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  try {
    await rename(path.join(dir, name), doomed);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // another process got there first
    throw error;
  }
  // A failure here leaves a ".deleting-" folder that the next retention run removes.
  await rm(doomed, { recursive: true, force: true }).catch(() => undefined);
  return true;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
