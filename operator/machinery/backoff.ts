// Exponential back-off per key, as client-go's ItemExponentialFailureRateLimiter: the n-th failure
// of a key waits base·2^(n-1), capped; success forgets the key. Plus jitter for reconnect loops, so
// many informers (or replicas) failing together do not retry in lock-step.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** Delay before the `failures`-th retry (failures >= 1). */
export function exponentialDelay(failures: number, { baseMs, maxMs }: BackoffOptions): number {
  if (failures <= 0) return 0;
  // 2^(n-1) overflows to Infinity for large n; the cap handles it.
  return Math.min(maxMs, baseMs * 2 ** (failures - 1));
}

/** Adds up to `fraction` of random extra delay (client-go's wait.Jitter). */
export function withJitter(delayMs: number, fraction = 0.2, random: () => number = Math.random): number {
  return delayMs + delayMs * fraction * random();
}

export class ItemBackoff {
  private readonly failures = new Map<string, number>();

  private readonly options: BackoffOptions;

  constructor(options: BackoffOptions = { baseMs: 5, maxMs: 1_000_000 }) {
    this.options = options;
  }

  /** Records one more failure of `key` and returns how long to wait before retrying it. */
  next(key: string): number {
    const count = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, count);
    return exponentialDelay(count, this.options);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}
