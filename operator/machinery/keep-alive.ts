// One keep-alive connection pool for the operator's API calls. client-node 2.0 sends requests with
// undici, and its KubeConfig still builds a new dispatcher (an undici Agent, with a connection pool
// of its own) for every request of a generated API client: the fix for kubernetes-client/javascript#2893
// caches only the https.Agent of Watch and WebSocket connections. A new pool has no connection, so
// every call opens a new TCP connection and does a full TLS handshake on both ends: at 300 jobs that
// work, not the requests themselves, was most of the operator's and much of the API server's CPU
// (docs/benchmarks.md, "Operator at scale"). client-go reuses connections; so do we.
import type { RequestOptions } from 'node:https';
import { isDeepStrictEqual } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { Agent } from 'undici';

/** Idle connections close after this (ms): before the API server's own idle timeout would reset them. */
const IDLE_SOCKET_MS = 60_000;

type ConnectOptions = Extract<ReturnType<k8s.KubeConfig['createDispatcherOptions']>, { type: 'agent' }>['connect'];

/** The request's credentials as client-node sets them: its own headers (tokens, impersonation) and basic auth. */
function applyHeaders(context: k8s.RequestContext, options: RequestOptions): void {
  for (const [name, value] of Object.entries(options.headers ?? {})) context.setHeaderParam(name, `${value}`);
  if (options.auth) context.setHeaderParam('Authorization', `Basic ${Buffer.from(options.auth).toString('base64')}`);
}

/**
 * The kubeconfig's authentication (headers, credentials), with one shared keep-alive dispatcher
 * instead of a new one per request. A new shared dispatcher is made when the TLS options change
 * (e.g. rotated client certificates); clusters behind a proxy keep client-node's own dispatchers.
 */
export function keepAliveAuthentication(kc: k8s.KubeConfig): k8s.SecurityAuthentication {
  let shared: { agent: Agent; connect: ConnectOptions } | undefined;
  return {
    getName: () => 'KubeConfigKeepAlive',
    async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
      const cluster = kc.getCurrentCluster();
      if (cluster?.proxyUrl) return kc.applySecurityAuthentication(context);
      const options: RequestOptions = {};
      await kc.applyToHTTPSOptions(options); // runs the authenticators (tokens, exec plugins, client certificates)
      applyHeaders(context, options);
      // The same connect options client-node would give its own per-request dispatcher.
      const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = options;
      const plan = kc.createDispatcherOptions(cluster, { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername });
      if (plan.type !== 'agent') return; // no TLS options: fetch's global dispatcher, which keeps connections alive
      if (!shared || !isDeepStrictEqual(shared.connect, plan.connect)) {
        // The old pool's connections carry the old credentials: they close once their requests are
        // done. A failed close must not become an unhandled rejection (it would end the process).
        shared?.agent.close().catch(() => undefined);
        shared = { agent: new Agent({ connect: plan.connect, keepAliveTimeout: IDLE_SOCKET_MS }), connect: plan.connect };
      }
      context.setDispatcher(shared.agent);
    },
  };
}

/** `kc.makeApiClient(Api)`, with connections reused across requests. */
export function makeKeepAliveClient<T>(kc: k8s.KubeConfig, auth: k8s.SecurityAuthentication, api: new (config: k8s.Configuration) => T): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('No active cluster!');
  return new api(k8s.createConfiguration({ baseServer: new k8s.ServerConfiguration(cluster.server, {}), authMethods: { default: auth } }));
}
