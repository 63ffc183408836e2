// The output folder is replaced as a whole, never left half-written: shards are written to a
// staging folder beside it, which takes its place once everything is written. An existing folder is
// replaced only when it holds an earlier preparation (a meta.json of our format) or nothing, so a
// typo in --out cannot wipe a folder of other files.
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { META_FILE, TOKEN_FORMAT } from '../data/token-shards.ts';
import { describeErrno, PrepareError } from './errors.ts';

/** Refuses an --out folder that holds something other than an earlier preparation. */
export async function checkOutFolder(out: string, label = '--out'): Promise<void> {
  const entries = await readdir(out).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new PrepareError(`${label} ${out}: ${describeErrno(error)}`);
  });
  if (!entries || entries.length === 0) return;
  const meta = await readFile(join(out, META_FILE), 'utf8').catch(() => '');
  if (!meta.includes(`"${TOKEN_FORMAT}"`)) {
    throw new PrepareError(`${label} ${out}: the folder holds other files (no ${META_FILE} of a preparation); give a new or empty folder`);
  }
}

export async function createStaging(out: string, label = '--out'): Promise<string> {
  const staging = join(dirname(out), `.${basename(out)}.partial-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true }).catch((error: unknown) => {
    throw new PrepareError(`${label} ${out}: cannot create a folder beside it: ${describeErrno(error)}`);
  });
  return staging;
}

/** Puts the staging folder in the place of `out` (the old one is removed after the swap). */
export async function replaceOutFolder(staging: string, out: string): Promise<void> {
  const old = `${staging}.old`;
  const hadOld = await rename(out, old).then(() => true, (error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return false;
    throw new PrepareError(`--out ${out}: cannot replace it: ${describeErrno(error)}`);
  });
  await rename(staging, out);
  if (hadOld) await rm(old, { recursive: true, force: true });
}
