// Atomic file writes: write to a unique temporary name in the same folder, fsync the file, rename
// over the final name, fsync the folder. A reader sees the old file or the whole new one, never a
// torn one, and after a crash (even of the machine) the file is either absent or complete.
import { createHash } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { updateSliced } from './hash.ts';
import { tempName } from './layout.ts';

export interface AtomicWriteResult {
  bytes: number;
  sha256: string;
}

/**
 * Writes `chunks` in order as `folder/name`, hashing them while the thread pool writes them (no copy
 * is made: the chunks must not change until this settles). With `syncFolder: false` the caller must
 * fsyncFolder() afterwards, e.g. once after several files.
 */
export async function writeFileAtomic(folder: string, name: string, chunks: Uint8Array[], options: { syncFolder?: boolean } = {}): Promise<AtomicWriteResult> {
  const temp = path.join(folder, tempName(name));
  const hash = createHash('sha256');
  let bytes = 0;
  let handle: FileHandle | undefined = await open(temp, 'wx', 0o644);
  try {
    for (const chunk of chunks) {
      // The write runs on the libuv thread pool while this thread hashes the same bytes.
      await Promise.all([writeAll(handle, chunk), updateSliced(hash, chunk)]);
      bytes += chunk.length;
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path.join(folder, name));
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  if (options.syncFolder !== false) await fsyncFolder(folder);
  return { bytes, sha256: hash.digest('hex') };
}

/** Makes renames and new entries in `folder` durable. */
export async function fsyncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems (certain network or FUSE mounts) do not support fsync on a directory.
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
  } finally {
    await handle.close();
  }
}

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let at = 0; at < chunk.length; ) {
    const { bytesWritten } = await handle.write(chunk, at, chunk.length - at, null);
    at += bytesWritten;
  }
}
