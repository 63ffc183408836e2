// A per-key coalescing work queue, after client-go's workqueue: a key added many times before a
// worker takes it runs once; a key added while it is being processed runs again after `done`; no
// key is ever processed by two workers at once. Delayed adds implement requeue-after and the
// rate-limited (exponential back-off) retries of failed reconciles.
import { ItemBackoff } from './backoff.ts';
import { realClock, type Clock } from './clock.ts';

/** Observers for the controller-runtime-style workqueue metrics. */
export interface QueueHooks {
  depth?(depth: number): void;
  added?(): void;
  retried?(): void;
  /** Seconds a key waited in the queue before a worker took it. */
  queued?(seconds: number): void;
  /** Seconds a worker spent on a key. */
  worked?(seconds: number): void;
}

export interface QueueOptions {
  clock?: Clock;
  backoff?: ItemBackoff;
  hooks?: QueueHooks;
}

export class WorkQueue {
  private readonly order: string[] = [];
  private readonly dirty = new Map<string, number>(); // key -> time it was added
  private readonly processing = new Map<string, number>(); // key -> time a worker took it
  private readonly delayed = new Map<string, { at: number; handle: unknown }>();
  private waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly clock: Clock;
  private readonly backoff: ItemBackoff;
  private readonly hooks: QueueHooks;

  constructor(options: QueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.backoff = options.backoff ?? new ItemBackoff();
    this.hooks = options.hooks ?? {};
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    this.hooks.added?.();
    if (this.dirty.has(key)) return; // coalesced
    this.dirty.set(key, this.clock.now());
    if (this.processing.has(key)) return; // runs again after done()
    this.push(key);
  }

  /** Adds `key` after `ms`; an earlier pending delayed add of the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    if (existing) this.clock.clearTimeout(existing.handle);
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, handle });
  }

  /** Retry after a failure: the key's exponential back-off decides when. */
  addRateLimited(key: string): void {
    this.hooks.retried?.();
    this.addAfter(key, this.backoff.next(key));
  }

  /** The key succeeded: its next failure starts the back-off from the base again. */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  retries(key: string): number {
    return this.backoff.retries(key);
  }

  /** Waits for the next key; undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    const key = this.order.shift();
    if (key !== undefined) return Promise.resolve(this.take(key));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    const started = this.processing.get(key);
    this.processing.delete(key);
    if (started !== undefined) this.hooks.worked?.((this.clock.now() - started) / 1000);
    if (this.dirty.has(key)) this.push(key);
  }

  len(): number {
    return this.order.length;
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { handle } of this.delayed.values()) this.clock.clearTimeout(handle);
    this.delayed.clear();
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve(undefined);
  }

  private push(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) return waiter(this.take(key));
    this.order.push(key);
    this.hooks.depth?.(this.order.length);
  }

  private take(key: string): string {
    const added = this.dirty.get(key) ?? this.clock.now();
    this.dirty.delete(key);
    this.processing.set(key, this.clock.now());
    this.hooks.queued?.((this.clock.now() - added) / 1000);
    this.hooks.depth?.(this.order.length);
    return key;
  }
}
