// Public types of links and their options, with defaults and up-front validation.
import type { Frame } from './frame.ts';
import { frameHeaderBytes, DEFAULT_MAX_RANK } from './frame.ts';
import { validateToken } from './auth.ts';

export interface LinkStats {
  /** Encoded bytes handed to the socket (headers included). */
  bytesSent: number;
  /** Bytes of binary messages received (headers included, also those that failed to decode). */
  bytesReceived: number;
  framesSent: number;
  /** Frames decoded and put in the mailbox. */
  framesReceived: number;
}

export interface LinkEvents {
  /** A frame was written to the socket: `bytes` encoded, `seconds` from the send() call to the write callback. */
  onSent?(bytes: number, seconds: number): void;
  /** A binary message of `bytes` arrived (before decoding). */
  onReceived?(bytes: number): void;
  /** Structured log sink; messages are capitalised and past tense. Tokens are never logged. */
  log?(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
}

export interface LinkClosedInfo {
  /** WebSocket close code (1000 normal, 1003 text, 1007 bad frame, 1008 mailbox full or a frame the screen refused, 1009 too big, 1006 dropped). */
  code: number;
  /** Why; in full when this side decided (the peer is told at most 123 bytes of it). */
  reason: string;
  /** False when this side decided to close (close() or a protocol violation by the peer). */
  byPeer: boolean;
}

export interface Link {
  /**
   * Encodes the frame immediately (the caller may reuse `frame.data` as soon as send() returns), then,
   * in call order, waits while more than highWaterMarkBytes are buffered or not yet confirmed written
   * to the socket, and hands the bytes to the socket. Buffered bytes are thus bounded by
   * highWaterMarkBytes + one frame.
   * Rejects with FrameError (invalid or too large frame) or LinkClosedError.
   */
  send(frame: Frame): Promise<void>;
  /**
   * Resolves with the next frame for (kind, step, microBatch); it may have arrived earlier.
   * timeoutMs undefined or 0 waits forever; on timeout rejects with ReceiveTimeoutError.
   * After the link closed, frames already in the mailbox are still returned; otherwise LinkClosedError.
   */
  receive(kind: number, step: number, microBatch: number, timeoutMs?: number): Promise<Frame>;
  /**
   * Checks every frame that arrives from now on, before it is queued, and the frames already
   * waiting. A check that returns a reason closes the link as a protocol violation (1008, the
   * reason logged). The stage protocol uses it to refuse frames under keys it will never ask for.
   */
  screen(check: FrameScreen): void;
  /** Resolves (never rejects) when the connection has ended for any reason. */
  readonly closed: Promise<LinkClosedInfo>;
  /** Closes with code 1000 and waits until closed (the socket is destroyed if the peer does not answer). */
  close(reason?: string): Promise<void>;
  readonly stats: LinkStats;
}

/** Returns why a decoded frame is refused, or undefined to let it into the mailbox. */
export type FrameScreen = (frame: Frame) => string | undefined;

export interface LinkOptions extends LinkEvents {
  /** Shared stage token presented as `Authorization: Bearer <token>`. */
  token: string;
  /** Largest frame payload in bytes (header excluded), e.g. the largest boundary tensor. */
  maxPayloadBytes: number;
  /** send() waits while more than this many bytes are buffered. Default 8 MiB. */
  highWaterMarkBytes?: number;
  /** Frames waiting in the mailbox before the peer is disconnected (code 1008). Default 1024. */
  maxQueuedFrames?: number;
}

export interface ResolvedLinkOptions extends LinkEvents {
  token: string;
  maxPayloadBytes: number;
  highWaterMarkBytes: number;
  maxQueuedFrames: number;
  /** ws maxPayload: the largest whole message, i.e. maxPayloadBytes + the largest header. */
  maxMessageBytes: number;
}

export const DEFAULT_HIGH_WATER_MARK_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_QUEUED_FRAMES = 1024;

/** Thrown by pending and later receive()/send() once the link is closed. */
export class LinkClosedError extends Error {
  readonly info: LinkClosedInfo;
  constructor(info: LinkClosedInfo) {
    super(`Link closed (code ${info.code}${info.reason ? `: ${info.reason}` : ''}${info.byPeer ? ', by peer' : ''}).`);
    this.name = 'LinkClosedError';
    this.info = info;
  }
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`The "${name}" option must be a positive integer, got ${String(value)}.`);
  }
  return value;
}

/** Applies defaults and validates; throws a TypeError naming the option. */
export function resolveLinkOptions(options: LinkOptions): ResolvedLinkOptions {
  validateToken(options.token);
  const maxPayloadBytes = positiveInteger('maxPayloadBytes', options.maxPayloadBytes);
  return {
    ...options,
    maxPayloadBytes,
    highWaterMarkBytes: positiveInteger('highWaterMarkBytes', options.highWaterMarkBytes ?? DEFAULT_HIGH_WATER_MARK_BYTES),
    maxQueuedFrames: positiveInteger('maxQueuedFrames', options.maxQueuedFrames ?? DEFAULT_MAX_QUEUED_FRAMES),
    maxMessageBytes: maxPayloadBytes + frameHeaderBytes(DEFAULT_MAX_RANK),
  };
}
