// Notices a neighbour that went silent. A crashed neighbour closes its socket and our pending
// receive fails at once, but a frozen process, a partitioned pod or a dead node sends nothing at
// all: TCP would wait for minutes. Each side sends a small heartbeat frame every interval and
// closes the link when nothing arrived for `timeoutMs`; the stage then exits with PeerLost.
import { FrameKind, LinkClosedError, type Link } from '../transport/index.ts';

export interface WatchdogOptions {
  intervalMs: number;
  timeoutMs: number;
  onSilent(silentForMs: number): void;
  now?: () => number;
}

export interface Watchdog {
  stop(): void;
}

/** Heartbeats are keyed (Heartbeat, step 0, sequence number), so both sides count them in order. */
export function watchPeer(link: Link, options: WatchdogOptions): Watchdog {
  const now = options.now ?? Date.now;
  let lastHeard = now();
  let stopped = false;
  let sent = 0;

  const consume = async () => {
    for (let expected = 0; !stopped; expected++) {
      try {
        await link.receive(FrameKind.Heartbeat, 0, expected);
        lastHeard = now();
      } catch (error) {
        if (error instanceof LinkClosedError) return;
        throw error;
      }
    }
  };
  void consume();

  const timer = setInterval(() => {
    if (stopped) return;
    const silentFor = now() - lastHeard;
    if (silentFor > options.timeoutMs) {
      stop();
      options.onSilent(silentFor);
      return;
    }
    link.send({ kind: FrameKind.Heartbeat, step: 0, microBatch: sent++, dtype: 'uint8', shape: [0], data: new Uint8Array(0) }).catch(() => stop());
  }, options.intervalMs);
  timer.unref();

  function stop() {
    stopped = true;
    clearInterval(timer);
  }
  void link.closed.then(stop);
  return { stop };
}
