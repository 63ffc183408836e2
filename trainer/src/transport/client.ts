// The connecting side of a link: opens a WebSocket with the stage token, retrying while the
// downstream stage is not listening yet (its pod may start later than ours).
import WebSocket from 'ws';
import { bearerHeader } from './auth.ts';
import { WsLink } from './link.ts';
import { resolveLinkOptions, type Link, type LinkOptions, type ResolvedLinkOptions } from './link-api.ts';

export interface ConnectLinkOptions extends LinkOptions {
  /** e.g. ws://stage-1.job.svc:7000/ */
  url: string;
  /** Keep retrying refused/unresolvable connections until this many ms have passed. Default 30000. */
  connectTimeoutMs?: number;
  /**
   * Default true: an all-zero masking key, so ws skips masking (the main cost of client->server
   * frames, pipeline.md §7). Masking only protects proxies on the open web; use inside the cluster.
   */
  zeroMask?: boolean;
}

/** The connection could not be established (refused token, bad status, or timed out retrying). */
export class ConnectError extends Error {
  /** HTTP status of a refused upgrade, if any (401 = wrong token). */
  readonly status: number | undefined;

  constructor(message: string, status?: number, cause?: unknown) {
    super(message, { cause });
    this.name = 'ConnectError';
    this.status = status;
  }
}

/** Errors worth retrying: the peer is not (yet) reachable or is temporarily full. */
const RETRY_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ETIMEDOUT']);
const RETRY_STATUSES = new Set([502, 503, 504]);
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 1000;

const zeroMask = (mask: Buffer): void => {
  mask.fill(0);
};

export async function connectLink(options: ConnectLinkOptions): Promise<Link> {
  const resolved = resolveLinkOptions(options);
  const timeoutMs = options.connectTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let delayMs = FIRST_RETRY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await openOnce(options.url, resolved, options.zeroMask ?? true, Math.max(1, deadline - Date.now()));
    } catch (error) {
      const status = error instanceof ConnectError ? error.status : undefined;
      const code = (error as { code?: string }).code;
      const retryable = status !== undefined ? RETRY_STATUSES.has(status) : code !== undefined && RETRY_CODES.has(code);
      if (!retryable || Date.now() + delayMs > deadline) {
        const why = status !== undefined ? `HTTP ${status}` : (error as Error).message;
        resolved.log?.('error', 'Failed to connect link', { url: options.url, attempt, status, code });
        throw new ConnectError(`Could not connect to ${options.url} after ${attempt} attempt(s): ${why}.`, status, error);
      }
      if (attempt === 1) resolved.log?.('info', 'Peer not reachable yet, retrying', { url: options.url, code, status });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, MAX_RETRY_MS);
    }
  }
}

/** One connection attempt; resolves with the link created synchronously on 'open'. */
function openOnce(url: string, options: ResolvedLinkOptions, useZeroMask: boolean, timeoutMs: number): Promise<Link> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      headers: { authorization: bearerHeader(options.token) },
      perMessageDeflate: false,
      maxPayload: options.maxMessageBytes,
      handshakeTimeout: timeoutMs,
      followRedirects: false,
      ...(useZeroMask ? { generateMask: zeroMask } : {}),
    });
    let settled = false;
    ws.on('unexpected-response', (_req, res) => {
      settled = true;
      reject(new ConnectError(`Server refused the upgrade with HTTP ${res.statusCode ?? '?'}.`, res.statusCode));
      ws.terminate(); // emits 'error' and 'close', ignored below
    });
    ws.on('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
    ws.once('open', () => {
      settled = true;
      // The link attaches its own listeners now, before any message can be dispatched.
      resolve(new WsLink(ws, options, url));
    });
  });
}
