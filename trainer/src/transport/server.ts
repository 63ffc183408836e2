// The listening side of a link: an HTTP server that upgrades authenticated requests to WebSockets.
// Connections are queued until accept() takes them (up to maxPendingConnections); with our topology
// each server gets exactly one peer, the upstream neighbour. A further connection while one is
// active is accepted and queued for the next accept() as well, so a restarted peer can reconnect.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { isAuthorized } from './auth.ts';
import { CloseCode, WsLink } from './link.ts';
import { LinkClosedError, resolveLinkOptions, type Link, type LinkOptions } from './link-api.ts';

export interface LinkServer {
  /** The bound TCP port (useful with port 0). */
  readonly port: number;
  /** Resolves with the next connected peer (FIFO); rejects with AcceptTimeoutError or LinkClosedError. */
  accept(timeoutMs?: number): Promise<Link>;
  /** Stops listening and closes connections not yet accepted; accepted links stay with their owner. */
  close(): Promise<void>;
}

export interface ListenLinkOptions extends LinkOptions {
  /** Interface to bind. Default 127.0.0.1 (use 0.0.0.0 in a pod). */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Connected-but-not-accepted peers kept; more are refused with HTTP 503. Default 4. */
  maxPendingConnections?: number;
}

export class AcceptTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`No peer connected within ${timeoutMs} ms.`);
    this.name = 'AcceptTimeoutError';
  }
}

interface AcceptWaiter {
  resolve(link: Link): void;
  reject(error: Error): void;
}

const remoteOf = (req: IncomingMessage): string => `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;

export async function listenLink(options: ListenLinkOptions): Promise<LinkServer> {
  const resolved = resolveLinkOptions(options);
  const maxPending = options.maxPendingConnections ?? 4;
  const log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void =>
    resolved.log?.(level, message, fields);
  const pending: WsLink[] = [];
  const waiters: AcceptWaiter[] = [];
  let closing = false;

  const http = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' }).end('WebSocket upgrade required.\n');
  });
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false, // deflate costs CPU and fragments memory; activations barely compress
    maxPayload: resolved.maxMessageBytes, // ws closes with 1009 above this, before buffering it all
    verifyClient: ({ req }, done) => {
      const remote = remoteOf(req);
      if (!isAuthorized(req, resolved.token)) {
        log('warn', 'Refused connection with a missing or wrong token', { remote, status: 401 });
        done(false, 401, 'Unauthorized');
      } else if (closing || pending.length >= maxPending) {
        log('warn', 'Refused connection: too many pending connections', { remote, status: 503 });
        done(false, 503, 'Service Unavailable');
      } else {
        done(true);
      }
    },
  });

  http.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const link = new WsLink(ws, resolved, remoteOf(req));
      log('info', 'Accepted connection', { remote: link.peer });
      const waiter = waiters.shift();
      if (waiter) return waiter.resolve(link);
      pending.push(link);
      // A peer that leaves before being accepted is dropped from the queue.
      void link.closed.then(() => {
        const index = pending.indexOf(link);
        if (index >= 0) pending.splice(index, 1);
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  http.on('error', (error) => log('error', 'Link server failed', { error: error.message }));
  const port = (http.address() as AddressInfo).port;
  log('info', 'Listening for links', { host: options.host ?? '127.0.0.1', port });

  return {
    port,
    accept(timeoutMs?: number): Promise<Link> {
      if (closing) return Promise.reject(serverClosed());
      const ready = pending.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise<Link>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const waiter: AcceptWaiter = {
          resolve: (link) => (clearTimeout(timer), resolve(link)),
          reject: (error) => (clearTimeout(timer), reject(error)),
        };
        waiters.push(waiter);
        if (timeoutMs !== undefined && timeoutMs > 0) {
          timer = setTimeout(() => {
            waiters.splice(waiters.indexOf(waiter), 1);
            reject(new AcceptTimeoutError(timeoutMs));
          }, timeoutMs);
        }
      });
    },
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      for (const waiter of waiters.splice(0)) waiter.reject(serverClosed());
      // Stop listening now; http's own close callback would wait for the accepted links to end.
      http.close();
      http.closeIdleConnections();
      await Promise.all(pending.splice(0).map((link) => link.close('link server closed', CloseCode.GoingAway)));
      log('info', 'Stopped listening for links', { port });
    },
  };
}

function serverClosed(): LinkClosedError {
  return new LinkClosedError({ code: CloseCode.GoingAway, reason: 'link server closed', byPeer: false });
}
