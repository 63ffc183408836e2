// Cluster DNS answers without kube-proxy: Service names resolve to their ready endpoints' pod IPs.
import type * as k8s from '@kubernetes/client-node';
import { CLUSTER_DOMAIN } from './types.ts';

export interface ClusterView {
  gateway: string;
  pods(): readonly k8s.V1Pod[];
  service(name: string, namespace: string | undefined): k8s.V1Service | undefined;
}

/** The addresses of a cluster name (pod, service or hostname.subdomain), or undefined if not ours. */
export function resolveClusterName(name: string, view: ClusterView): string[] | undefined {
  const suffix = `.${CLUSTER_DOMAIN}`;
  if (!name.endsWith(suffix)) return undefined;
  const parts = name.slice(0, -suffix.length).split('.');
  const pods = view.pods();
  if (parts.length === 3 && parts[2] === 'pod') {
    const ip = (parts[0] ?? '').replace(/-/g, '.');
    return pods.some((p) => p.status?.podIP === ip && p.metadata?.namespace === parts[1]) ? [ip] : undefined;
  }
  if (parts.length === 3 && parts[2] === 'svc') {
    const [svcName, ns] = parts;
    if (svcName === 'kubernetes' && ns === 'default') return [view.gateway];
    const svc = view.service(svcName ?? '', ns);
    if (!svc) return undefined;
    // No kube-proxy: every Service name (headless or not) resolves to its ready endpoints' pod IPs.
    return endpoints(svc, pods).map((p) => p.status?.podIP ?? '');
  }
  if (parts.length === 4 && parts[3] === 'svc') {
    const [hostname, subdomain, ns] = parts;
    const svc = view.service(subdomain ?? '', ns);
    if (!svc) return undefined;
    const pod = endpoints(svc, pods).find((p) => p.spec?.hostname === hostname && p.spec?.subdomain === subdomain);
    return pod ? [pod.status?.podIP ?? ''] : undefined;
  }
  return undefined;
}

function endpoints(svc: k8s.V1Service, pods: readonly k8s.V1Pod[]): k8s.V1Pod[] {
  const selector = svc.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return [];
  const notReadyToo = svc.spec?.publishNotReadyAddresses === true;
  return pods.filter((p) => {
    if (p.metadata?.namespace !== svc.metadata?.namespace || !p.status?.podIP || p.metadata?.deletionTimestamp) return false;
    if (p.status.phase !== 'Running' && p.status.phase !== 'Pending') return false;
    const labels = p.metadata?.labels ?? {};
    if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) return false;
    return notReadyToo || (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  });
}
