// One informer per watched kind, each kept alive: client-node's informer emits `error` and stops
// when its watch fails (connection lost, 403, ...); we start it again after an exponential back-off
// with jitter (never a tight loop, never exit). A 410 Gone re-lists inside the library. /readyz
// reports whether every informer has synced and is watching.
import * as k8s from '@kubernetes/client-node';
import { exponentialDelay, withJitter } from './backoff.ts';
import { realClock, type Clock } from './clock.ts';
import { errorMessage } from './k8s-errors.ts';
import type { Logger } from './log.ts';

export interface WatchedOptions<T extends k8s.KubernetesObject> {
  resource: string;
  informer: k8s.Informer<T> & k8s.ObjectCache<T>;
  onChange(object: T): void;
  log: Logger;
  clock?: Clock;
  onRestart?(): void;
  backoff?: { baseMs: number; maxMs: number };
}

export class Watched<T extends k8s.KubernetesObject> {
  synced = false;
  watching = false;
  private failures = 0;
  private stopped = false;
  private timer: unknown;
  private readonly clock: Clock;
  private erroredDuringStart = false;

  private readonly options: WatchedOptions<T>;

  constructor(options: WatchedOptions<T>) {
    this.options = options;
    this.clock = options.clock ?? realClock;
    const { informer, onChange } = options;
    informer.on('add', onChange);
    informer.on('update', onChange);
    informer.on('delete', onChange);
    informer.on('error', (error: unknown) => this.failed(error));
  }

  get cache(): k8s.ObjectCache<T> {
    return this.options.informer;
  }

  /** Lists and starts watching; on failure keeps retrying in the background. */
  async start(): Promise<void> {
    this.stopped = false;
    this.erroredDuringStart = false;
    try {
      await this.options.informer.start();
    } catch (error) {
      this.failed(error);
      return;
    }
    if (this.erroredDuringStart || this.stopped) return;
    this.synced = true;
    this.watching = true;
    this.failures = 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watching = false;
    this.clock.clearTimeout(this.timer);
    await this.options.informer.stop();
  }

  private failed(error: unknown): void {
    this.erroredDuringStart = true;
    this.watching = false;
    if (this.stopped) return;
    this.failures += 1;
    const delay = withJitter(exponentialDelay(this.failures, this.options.backoff ?? { baseMs: 1000, maxMs: 30_000 }));
    this.options.log.error('Watch failed; restarting', { resource: this.options.resource, error: errorMessage(error), retryInMs: Math.round(delay) });
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.options.onRestart?.();
      void this.start();
    }, delay);
  }
}
