// One keep-alive connection pool for the operator's API calls. client-node 1.4 gives every request
// a new https.Agent (kubernetes-client/javascript#2893), so every call opened a new TCP connection
// and did a full TLS handshake on both ends: at 300 jobs that work, not the requests themselves, was
// most of the operator's and much of the API server's CPU (docs/benchmarks.md, "Operator at scale").
// client-go reuses connections; so do we. Watches keep their own agents (client-node's Watch).
import { Agent } from 'node:https';
import * as k8s from '@kubernetes/client-node';

/** Idle connections close after this (ms): before the API server's own idle timeout would reset them. */
const IDLE_SOCKET_MS = 60_000;

/** The options that decide which server identity and client credentials a connection has. */
const TLS_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

function sameTls(a: Agent['options'], b: Agent['options']): boolean {
  return TLS_OPTIONS.every((name) => {
    const x: unknown = a[name];
    const y: unknown = b[name];
    return Buffer.isBuffer(x) && Buffer.isBuffer(y) ? x.equals(y) : x === y;
  });
}

/**
 * The kubeconfig's authentication (headers, credentials), with its per-request https.Agent swapped
 * for one shared keep-alive agent. A new shared agent is made when the TLS options change (e.g.
 * rotated client certificates); proxy agents are left as they are.
 */
export function keepAliveAuthentication(kc: k8s.KubeConfig): k8s.SecurityAuthentication {
  let shared: Agent | undefined;
  return {
    getName: () => 'KubeConfigKeepAlive',
    async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
      await kc.applySecurityAuthentication(context);
      const fresh = context.getAgent();
      if (!fresh || fresh.constructor !== Agent) return;
      const options = (fresh as Agent).options;
      if (!shared || !sameTls(shared.options, options)) {
        // The old agent's sockets carry the old credentials: they close once idle (timeout below).
        shared = new Agent({ ...options, keepAlive: true, timeout: IDLE_SOCKET_MS });
      }
      context.setAgent(shared);
    },
  };
}

/** `kc.makeApiClient(Api)`, with connections reused across requests. */
export function makeKeepAliveClient<T>(kc: k8s.KubeConfig, auth: k8s.SecurityAuthentication, api: new (config: k8s.Configuration) => T): T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('No active cluster!');
  return new api(k8s.createConfiguration({ baseServer: new k8s.ServerConfiguration(cluster.server, {}), authMethods: { default: auth } }));
}
