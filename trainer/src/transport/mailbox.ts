// Receive mailbox keyed by (kind, step, microBatch): frames may arrive before anyone waits for them,
// and a receiver may wait before its frame arrives. Bounded so a runaway peer cannot exhaust memory.
import type { Frame } from './frame.ts';
import { frameKindName } from './kinds.ts';

/** Raised by a receive() that timed out; the link stays usable. */
export class ReceiveTimeoutError extends Error {
  constructor(kind: number, step: number, microBatch: number, timeoutMs: number) {
    super(`No ${frameKindName(kind)} frame for step ${step}, micro-batch ${microBatch} within ${timeoutMs} ms.`);
    this.name = 'ReceiveTimeoutError';
  }
}

/** A pending take(): the promise's own settle functions, and its timeout timer if it has one. */
interface Waiter {
  resolve: (frame: Frame) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

const keyOf = (kind: number, step: number, microBatch: number): string => `${kind}:${step}:${microBatch}`;

export class Mailbox {
  /** Frames not yet taken, FIFO per key. */
  private readonly frames = new Map<string, Frame[]>();
  /** Receivers waiting, FIFO per key. */
  private readonly waiters = new Map<string, Waiter[]>();
  private queued = 0;
  private closedError: Error | undefined;

  /** Frames that may wait for a receiver across all keys. */
  private readonly maxQueuedFrames: number;

  constructor(maxQueuedFrames: number) {
    this.maxQueuedFrames = maxQueuedFrames;
  }

  /** Frames currently waiting for a receiver. */
  get size(): number {
    return this.queued;
  }

  /** The frames waiting for a receiver, in arrival order per key. */
  waiting(): Frame[] {
    return [...this.frames.values()].flat();
  }

  /** Delivers a frame to a waiting receiver or queues it. Returns false if the bound is exceeded. */
  put(frame: Frame): boolean {
    const key = keyOf(frame.kind, frame.step, frame.microBatch);
    const waiter = shift(this.waiters, key);
    if (waiter) {
      if (waiter.timer !== undefined) clearTimeout(waiter.timer);
      waiter.resolve(frame);
      return true;
    }
    if (this.queued >= this.maxQueuedFrames) return false;
    push(this.frames, key, frame);
    this.queued++;
    return true;
  }

  /**
   * Takes the next frame for the key, waiting up to timeoutMs (undefined or 0 = no timeout).
   * Frames queued before close() are still delivered; otherwise a closed mailbox rejects.
   */
  take(kind: number, step: number, microBatch: number, timeoutMs?: number): Promise<Frame> {
    const key = keyOf(kind, step, microBatch);
    const frame = shift(this.frames, key);
    if (frame) {
      this.queued--;
      return Promise.resolve(frame);
    }
    if (this.closedError) return Promise.reject(this.closedError);
    // The waiter holds the promise's own resolve/reject: no wrapper closures per receive, and a
    // timer only when a timeout was asked for (this runs once per frame on the receiving side).
    let waiter!: Waiter;
    const promise = new Promise<Frame>((resolve, reject) => {
      waiter = { resolve, reject, timer: undefined };
    });
    push(this.waiters, key, waiter);
    if (timeoutMs !== undefined && timeoutMs > 0) {
      waiter.timer = setTimeout(() => {
        remove(this.waiters, key, waiter);
        waiter.reject(new ReceiveTimeoutError(kind, step, microBatch, timeoutMs));
      }, timeoutMs);
    }
    return promise;
  }

  /** Rejects every waiting receiver and all later takes of absent frames with `error`. */
  close(error: Error): void {
    if (this.closedError) return;
    this.closedError = error;
    const all = [...this.waiters.values()].flat();
    this.waiters.clear();
    for (const waiter of all) {
      if (waiter.timer !== undefined) clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function shift<T>(map: Map<string, T[]>, key: string): T | undefined {
  const list = map.get(key);
  if (!list) return undefined;
  const value = list.shift();
  if (list.length === 0) map.delete(key);
  return value;
}

function remove<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (!list) return;
  const index = list.indexOf(value);
  if (index >= 0) list.splice(index, 1);
  if (list.length === 0) map.delete(key);
}
