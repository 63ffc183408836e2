// The lock of the caches the tests build into (the control-plane tools, the images): the setup's
// cache lock (trainer/src/setup/cache-lock.ts), saying in the build's log whom it waits for.
import { withCacheLock } from '../../trainer/src/setup/cache-lock.ts';

export function withLock<T>(lockDir: string, log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  return withCacheLock(lockDir, {
    onWait: (pid) => log(`waiting for pid ${pid} which holds ${lockDir}`),
    onTakeOver: (pid) => log(`removing stale lock of ${pid === undefined ? 'an unknown process' : `pid ${pid}`}`),
  }, fn);
}
