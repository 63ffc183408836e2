// All-or-nothing output folders: the files are written into a temporary sibling of --out (same
// file system, so the final rename is atomic), synced, and renamed into place. A failure at any
// point removes the temporary folder: --out is then as it was (absent, empty, or, with
// --overwrite, the previous export).
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fsyncFolder } from '../checkpoint/atomic.ts';
import { ExportError } from './export-error.ts';

export interface OutputFile {
  name: string;
  bytes: Uint8Array;
}

/** Refuses an --out that is a file, or a non-empty folder without `overwrite`; call it before the work. */
export async function checkOutputFolder(out: string, options: { overwrite?: boolean }): Promise<void> {
  const found = await stat(out).catch(() => undefined);
  if (!found) return;
  if (!found.isDirectory()) throw new ExportError(`${out}: exists and is a file; give a folder path for --out`);
  if (!options.overwrite && (await readdir(out)).length > 0) throw new ExportError(`${out}: exists and is not empty; choose another --out, or add --overwrite to replace it`);
}

/** Writes `files` as the folder `out`, or nothing at all. */
export async function writeOutputFolder(out: string, files: readonly OutputFile[], options: { overwrite?: boolean }): Promise<void> {
  await checkOutputFolder(out, options);
  const target = resolve(out);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const unique = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const temp = join(parent, `.${basename(target)}.tmp-${unique}`);
  const previous = join(parent, `.${basename(target)}.old-${unique}`);
  try {
    await mkdir(temp);
    for (const file of files) await writeSynced(join(temp, file.name), file.bytes);
    await fsyncFolder(temp);
    const existing = await stat(target).catch(() => undefined);
    if (existing) await rename(target, previous);
    try {
      await rename(temp, target);
    } catch (error) {
      if (existing) await rename(previous, target);
      throw error;
    }
    await fsyncFolder(parent);
  } finally {
    await rm(temp, { recursive: true, force: true });
    await rm(previous, { recursive: true, force: true });
  }
}

async function writeSynced(file: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(file, 'wx', 0o644);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
