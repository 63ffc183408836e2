// Errors of `pipetrain prepare`. Every one is a user error (a missing path, a binary file, an empty
// corpus, an unwritable folder): its message is one line naming the file or option and the fix, and
// the command prints it without a stack trace. They extend DataError, so a stage that prepares its
// data on first use fails permanently (exit code 2) instead of being restarted in vain.
import { DataError } from '../data/dataset.ts';

export class PrepareError extends DataError {}

/** The work was stopped (Ctrl-C, or the caller's AbortSignal); nothing was written. */
export class PrepareAborted extends PrepareError {
  constructor() {
    super('prepare: interrupted; nothing was written');
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new PrepareAborted();
}

/** "ENOENT" and friends as a short phrase for a message. */
export function describeErrno(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const phrases: Record<string, string> = {
    ENOENT: 'no such file or folder',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOTDIR: 'a part of the path is a file, not a folder',
    EISDIR: 'is a folder',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    EEXIST: 'already exists',
  };
  return code ? `${phrases[code] ?? code} (${code})` : String((error as Error).message ?? error);
}
