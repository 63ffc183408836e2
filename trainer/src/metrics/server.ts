// The stage's HTTP endpoint (node:http, no framework): /metrics for Prometheus, /healthz for the
// kubelet, /status for the operator. A bad request or a throwing callback never takes the stage down.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServerOptions {
  /** Interface to listen on. Default `127.0.0.1`; stage pods pass `0.0.0.0`. */
  host?: string;
  /** TCP port; 0 picks a free one (tests). */
  port: number;
  registry: Registry;
  /** Body of `GET /status`, serialised as JSON. */
  status: () => unknown;
  /** `GET /healthz` answers 503 while this returns false. Default: always healthy. */
  healthy?: () => boolean;
}

export interface MetricsServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** Stops listening and drops open (keep-alive) connections. Safe to call twice. */
  close(): Promise<void>;
}

const DEFAULT_HOST = '127.0.0.1';

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { host = DEFAULT_HOST, port, registry, status, healthy = () => true } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`port must be an integer from 0 to 65535; got ${port}.`);
  if (typeof status !== 'function') throw new TypeError('status must be a function returning the /status body.');

  const server = createServer((req, res) => {
    handle(req, res, registry, status, healthy).catch((error: unknown) => fail(res, error));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening, socket-level errors must not become uncaught exceptions.
  server.on('error', () => undefined);

  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Prometheus keeps its scrape connections alive; close() alone would wait for them.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, registry: Registry, status: () => unknown, healthy: () => boolean): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return send(res, 405, 'text/plain; charset=utf-8', `Method ${req.method ?? '?'} not allowed; use GET or HEAD.\n`, { Allow: 'GET, HEAD' });
  }
  const path = pathOf(req.url);
  switch (path) {
    case '/metrics':
      return send(res, 200, registry.contentType, await registry.metrics());
    case '/healthz': {
      let ok: boolean;
      try {
        ok = healthy();
      } catch (error) {
        return send(res, 500, 'text/plain; charset=utf-8', `Health check failed: ${messageOf(error)}\n`);
      }
      return ok ? send(res, 200, 'text/plain; charset=utf-8', 'ok\n') : send(res, 503, 'text/plain; charset=utf-8', 'unhealthy\n');
    }
    case '/status': {
      let body: string;
      try {
        body = JSON.stringify(status()) ?? 'null';
      } catch (error) {
        return send(res, 500, 'text/plain; charset=utf-8', `Status failed: ${messageOf(error)}\n`);
      }
      return send(res, 200, 'application/json; charset=utf-8', `${body}\n`);
    }
    default:
      return send(res, 404, 'text/plain; charset=utf-8', 'Not found; try /metrics, /healthz or /status.\n');
  }
}

/** The path of a request target, or undefined for targets that are not a path (e.g. `*`). */
function pathOf(url: string | undefined): string | undefined {
  if (!url?.startsWith('/')) return undefined;
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

function send(res: ServerResponse, code: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    ...headers,
  });
  // Node sends no body for HEAD requests by itself.
  res.end(body);
}

function fail(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  try {
    send(res, 500, 'text/plain; charset=utf-8', `Internal error: ${messageOf(error)}\n`);
  } catch {
    res.destroy();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
