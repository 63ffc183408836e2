// A Link over one open WebSocket: framed sends with bounded buffering, and a keyed receive mailbox.
// Protocol violations by the peer close only this connection, with a code and a logged reason.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { decodeFrame, encodedFrameBytes, encodeFrameInto, FrameError, type Frame } from './frame.ts';
import { Mailbox } from './mailbox.ts';
import { SendBufferPool } from './send-buffers.ts';
import { LinkClosedError, type FrameScreen, type Link, type LinkClosedInfo, type LinkStats, type ResolvedLinkOptions } from './link-api.ts';

/** Close codes (RFC 6455 §7.4.1). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003, // text message
  Abnormal: 1006, // no close frame (socket dropped); never sent
  InvalidPayload: 1007, // binary message that is not a valid frame
  PolicyViolation: 1008, // mailbox overflow, or a frame the screen refused
  MessageTooBig: 1009,
  TryAgainLater: 1013,
} as const;

/**
 * The close code ws sends for each of its receiver errors that is not a plain protocol error
 * (ws 8 receiver.js), so `closed` reports the code the peer was really told. Found by the link
 * fuzzer: an invalid UTF-8 text and a length above 2^53 were reported as 1002.
 */
const WS_ERROR_CLOSE_CODES: Readonly<Record<string, number>> = {
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: CloseCode.MessageTooBig,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: CloseCode.MessageTooBig,
  WS_ERR_INVALID_UTF8: CloseCode.InvalidPayload,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: CloseCode.PolicyViolation,
};
/** How long close() waits for the peer's close frame before destroying the socket, ms. */
const CLOSE_TIMEOUT_MS = 3000;
/** Fallback poll while waiting for the send buffer to drain, ms (send callbacks normally wake us first). */
const DRAIN_POLL_MS = 5;
/** Close reasons must fit a control frame: 125 bytes minus the 2-byte code. */
const MAX_REASON_BYTES = 123;
/** What send() returns when it handed the frame to the socket at once (shared: it never changes). */
const SENT: Promise<void> = Promise.resolve();
/** ws send options, the same for every frame (ws copies them). */
const BINARY = { binary: true } as const;

export function truncateReason(reason: string): string {
  let out = reason;
  while (Buffer.byteLength(out) > MAX_REASON_BYTES) out = out.slice(0, -1);
  return out;
}

export class WsLink implements Link {
  readonly stats: LinkStats = { bytesSent: 0, bytesReceived: 0, framesSent: 0, framesReceived: 0 };
  readonly closed: Promise<LinkClosedInfo>;
  private readonly mailbox: Mailbox;
  private readonly sendBuffers: SendBufferPool;
  private resolveClosed!: (info: LinkClosedInfo) => void;
  /** Why this side closed (or saw an error), set before the close event. */
  private cause: LinkClosedInfo | undefined;
  private closedInfo: LinkClosedInfo | undefined;
  private sendChain: Promise<void> = Promise.resolve();
  /** Frames waiting in sendChain for the socket buffer to drain; while > 0 new frames queue behind them. */
  private queuedSends = 0;
  /**
   * Encoded bytes handed to ws whose write callback has not run yet. At least ws.bufferedAmount:
   * a frame the kernel took at once is out of the socket buffer, but its callback (which returns
   * the encode buffer to the pool) only runs on a later tick. A sender awaiting already-resolved
   * send()s never yields to that tick, so bounding only bufferedAmount let it encode into fresh
   * buffers while the pool waited for its callbacks.
   */
  private unfinishedBytes = 0;
  private readonly decodeLimits: { maxPayloadBytes: number };
  private drainWaiters: Array<() => void> = [];
  private terminateTimer: NodeJS.Timeout | undefined;
  /** Judges each decoded frame before it is queued (screen()); none until one is installed. */
  private check: FrameScreen | undefined;

  /** An OPEN socket. */
  private readonly ws: WebSocket;
  private readonly options: ResolvedLinkOptions;
  /** A description for logs (address or URL, never the token). */
  readonly peer: string;

  constructor(
    ws: WebSocket,
    options: ResolvedLinkOptions,
    peer: string,
  ) {
    this.ws = ws;
    this.options = options;
    this.peer = peer;
    this.mailbox = new Mailbox(options.maxQueuedFrames);
    this.decodeLimits = { maxPayloadBytes: options.maxPayloadBytes };
    // Idle buffers never exceed what can be in flight: the high-water mark plus two frames.
    this.sendBuffers = new SendBufferPool(options.highWaterMarkBytes + 2 * options.maxMessageBytes);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('error', (error) => this.onError(error));
    ws.on('close', (code, reason) => this.onClose(code, reason.toString('utf8')));
  }

  send(frame: Frame): Promise<void> {
    if (this.cause || this.closedInfo) return Promise.reject(this.closedError());
    const calledAt = this.options.onSent ? performance.now() : 0; // onSent reports call-to-write time, backpressure included
    const payload = frame.data.byteLength;
    if (payload > this.options.maxPayloadBytes) {
      const message = `Frame payload of ${payload} bytes exceeds maxPayloadBytes ${this.options.maxPayloadBytes}.`;
      return Promise.reject(new FrameError('payload-too-large', message));
    }
    const bytes = this.sendBuffers.acquire(encodedFrameBytes(frame));
    try {
      encodeFrameInto(frame, bytes);
    } catch (error) {
      this.sendBuffers.release(bytes);
      return Promise.reject(error as Error);
    }
    // Nothing queued ahead and room in the socket buffer: hand the frame over now. This is the
    // common case, and it spares each frame a promise chain and its microtask hops.
    if (this.queuedSends === 0 && this.ws.readyState === WebSocket.OPEN && !this.overHighWaterMark()) {
      this.write(bytes, calledAt);
      return SENT;
    }
    // Otherwise chain, so frames go out in call order and only one sender waits on the buffer at a time.
    this.queuedSends++;
    const sent = this.sendChain.then(() => this.sendEncoded(bytes, calledAt));
    const dequeued = (): void => {
      this.queuedSends--;
    };
    this.sendChain = sent.then(dequeued, dequeued);
    return sent;
  }

  receive(kind: number, step: number, microBatch: number, timeoutMs?: number): Promise<Frame> {
    return this.mailbox.take(kind, step, microBatch, timeoutMs);
  }

  screen(check: FrameScreen): void {
    this.check = check;
    if (this.cause || this.closedInfo) return;
    for (const frame of this.mailbox.waiting()) if (this.refused(frame)) return;
  }

  /** @param code close code, default 1000 (the server uses 1001 for peers it never handed out). */
  async close(reason = 'closed', code: number = CloseCode.Normal): Promise<void> {
    if (!this.cause && !this.closedInfo) this.closeWith(code, reason);
    await this.closed;
  }

  private async sendEncoded(bytes: Buffer, calledAt: number): Promise<void> {
    while (this.ws.readyState === WebSocket.OPEN && this.overHighWaterMark()) {
      await this.waitForDrain();
    }
    if (this.cause || this.closedInfo || this.ws.readyState !== WebSocket.OPEN) throw this.closedError();
    this.write(bytes, calledAt);
  }

  private overHighWaterMark(): boolean {
    const limit = this.options.highWaterMarkBytes;
    return this.unfinishedBytes > limit || this.ws.bufferedAmount > limit;
  }

  /** Hands encoded bytes to ws; the pooled buffer returns to the pool once written to the socket. */
  private write(bytes: Buffer, calledAt: number): void {
    this.unfinishedBytes += bytes.length;
    this.ws.send(bytes, BINARY, (error) => {
      this.unfinishedBytes -= bytes.length;
      this.wakeDrainWaiters();
      if (error) return; // the socket error also arrives as 'error'/'close' and is handled there
      this.sendBuffers.release(bytes); // written to the socket: nothing references it any more
      this.options.onSent?.(bytes.length, (performance.now() - calledAt) / 1000);
    });
    this.stats.bytesSent += bytes.length;
    this.stats.framesSent++;
  }

  private waitForDrain(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, DRAIN_POLL_MS);
      const waiters = this.drainWaiters;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      waiters.push(done);
    });
  }

  private wakeDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.cause) return; // closing: ignore the rest
    if (!isBinary) {
      this.violation(CloseCode.UnsupportedData, 'text messages are not accepted');
      return;
    }
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    this.stats.bytesReceived += bytes.length;
    this.options.onReceived?.(bytes.length);
    let frame: Frame;
    try {
      frame = decodeFrame(bytes, this.decodeLimits);
    } catch (error) {
      // Anything decodeFrame throws is the peer's fault; it must never escape into ws and crash us.
      const reason = error instanceof FrameError ? error.reason : 'decode-failed';
      const code = reason === 'payload-too-large' ? CloseCode.MessageTooBig : CloseCode.InvalidPayload;
      this.violation(code, `invalid frame (${reason}): ${(error as Error).message}`);
      return;
    }
    if (this.refused(frame)) return;
    this.stats.framesReceived++;
    if (!this.mailbox.put(frame)) {
      this.violation(CloseCode.PolicyViolation, `mailbox full: more than ${this.options.maxQueuedFrames} frames waiting`);
    }
  }

  /** True when the screen refused the frame; the link is then closing with 1008. */
  private refused(frame: Frame): boolean {
    const reason = this.check?.(frame);
    if (reason === undefined) return false;
    this.violation(CloseCode.PolicyViolation, reason);
    return true;
  }

  private onError(error: Error & { code?: string }): void {
    // ws closes by itself after a receiver error (e.g. 1009 for a message above maxPayload) and
    // destroys the socket after a socket error; record why, so `closed` reports it.
    const code = error.code === undefined ? CloseCode.Abnormal : (WS_ERROR_CLOSE_CODES[error.code] ?? (error.code.startsWith('WS_ERR_') ? CloseCode.ProtocolError : CloseCode.Abnormal));
    const byPeer = code === CloseCode.Abnormal;
    this.cause ??= { code, reason: truncateReason(error.message), byPeer };
    this.log('warn', 'Link failed', { code, reason: error.message, errorCode: error.code });
  }

  private onClose(code: number, reason: string): void {
    clearTimeout(this.terminateTimer);
    const info = this.cause ?? { code, reason, byPeer: true };
    this.closedInfo = info;
    this.mailbox.close(new LinkClosedError(info));
    this.sendBuffers.clear();
    this.wakeDrainWaiters();
    this.log('info', 'Link closed', { ...info });
    this.resolveClosed(info);
  }

  private violation(code: number, reason: string): void {
    this.log('warn', 'Closed link after a protocol violation', { code, reason });
    this.closeWith(code, reason);
  }

  private closeWith(code: number, reason: string): void {
    // The peer gets what fits a close frame; this side keeps the whole reason for its own error.
    this.cause = { code, reason, byPeer: false };
    this.ws.close(code, truncateReason(reason));
    // A peer that never answers the close frame must not keep us waiting (or leak the socket).
    this.terminateTimer = setTimeout(() => this.ws.terminate(), CLOSE_TIMEOUT_MS);
    this.terminateTimer.unref();
  }

  private closedError(): LinkClosedError {
    return new LinkClosedError(this.closedInfo ?? this.cause ?? { code: CloseCode.Abnormal, reason: 'not open', byPeer: false });
  }

  private log(level: 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown>): void {
    this.options.log?.(level, message, { peer: this.peer, ...fields });
  }
}
