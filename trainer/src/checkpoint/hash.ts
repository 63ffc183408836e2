// SHA-256 of files and of byte chunks being written, in slices so the event loop (and with it the
// training loop of a stage) is never held for long: hashing runs at roughly 1-2 GB/s, so a 1 MiB
// slice costs about 0.5-1 ms of main-thread time.
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** Bytes hashed between two yields to the event loop. */
export const SLICE_BYTES = 1 << 20;

/** Feeds `bytes` to `hash` in slices, yielding to the event loop between them. */
export async function updateSliced(hash: Hash, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length; at += SLICE_BYTES) {
    if (at > 0) await yieldToLoop();
    hash.update(bytes.subarray(at, at + SLICE_BYTES));
  }
}

/** SHA-256 (hex) and size of a file, read in 1 MiB chunks. Rejects like fs (ENOENT, EISDIR ...). */
export async function sha256File(file: string): Promise<{ sha256: string; bytes: number }> {
  const handle = await open(file, 'r');
  try {
    const hash = createHash('sha256');
    const chunk = Buffer.allocUnsafe(SLICE_BYTES);
    let bytes = 0;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      hash.update(chunk.subarray(0, bytesRead));
      bytes += bytesRead;
    }
    return { sha256: hash.digest('hex'), bytes };
  } finally {
    await handle.close();
  }
}

/** SHA-256 (hex) of an in-memory buffer, sliced like the others. */
export async function sha256Bytes(bytes: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  await updateSliced(hash, bytes);
  return hash.digest('hex');
}
