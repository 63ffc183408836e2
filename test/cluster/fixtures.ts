// Small builders for the cluster tests: pods whose command is a Node.js one-liner run by the agent.
import type * as k8s from '@kubernetes/client-node';
import * as k8sRuntime from '@kubernetes/client-node';
import type { ClusterClient } from './control.ts';
import { waitFor } from './util.ts';

/** A container that runs `node -e <script>` (images are recorded, never pulled). */
export function nodeContainer(name: string, script: string, extra: Partial<k8s.V1Container> = {}): k8s.V1Container {
  return { name, image: 'pipetrain/test:dev', command: [process.execPath, '-e', script], ...extra };
}

/** An HTTP server on `port` answering every path with 200 and `body`. */
export const httpServerScript = (port: number, body = 'ok'): string =>
  `require('http').createServer((q, s) => s.end(${JSON.stringify(body)})).listen(${port}, () => console.log('listening on ${port}'));` +
  `process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(0); });`;

export function isReady(pod: k8s.V1Pod | undefined): boolean {
  return !!pod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

export async function waitForPod(
  client: ClusterClient,
  namespace: string,
  name: string,
  what: string,
  check: (pod: k8s.V1Pod) => boolean,
  timeoutMs = 60_000,
): Promise<k8s.V1Pod> {
  return waitFor(`pod ${namespace}/${name} ${what}`, async () => {
    const pod = await client.core.readNamespacedPod({ name, namespace });
    return check(pod) ? pod : undefined;
  }, timeoutMs, 100);
}

/** Collects every version of the namespace's pods seen through a watch until `stop()` is called. */
export async function watchPods(client: ClusterClient, namespace: string, onPod: (pod: k8s.V1Pod) => void): Promise<{ stop(): void }> {
  const watch = new k8sRuntime.Watch(client.kc);
  const req = await watch.watch(
    `/api/v1/namespaces/${namespace}/pods`,
    {},
    (_type: string, pod: k8s.V1Pod) => onPod(pod),
    () => undefined,
  );
  return { stop: () => req.abort() };
}
