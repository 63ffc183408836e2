// Cluster DNS names: pods by dashed IP, Services by their ready endpoints, hostname.subdomain records.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { resolveClusterName } from './cluster-names.ts';

const pod = (name: string, ip: string, ready: boolean, extra: Partial<k8s.V1PodSpec> = {}): k8s.V1Pod => ({
  metadata: { name, namespace: 'ns', labels: { app: 'x' } },
  spec: { containers: [], ...extra },
  status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const service = (publishNotReadyAddresses = false): k8s.V1Service => ({
  metadata: { name: 'svc', namespace: 'ns' },
  spec: { selector: { app: 'x' }, publishNotReadyAddresses },
});

test('a Service resolves to its ready endpoints, or to all of them when it publishes not-ready addresses', () => {
  const pods = [pod('a', '10.0.0.2', true), pod('b', '10.0.0.3', false)];
  const view = (svc: k8s.V1Service) => ({ gateway: '10.0.0.1', pods: () => pods, service: (n: string) => (n === 'svc' ? svc : undefined) });
  assert.deepEqual(resolveClusterName('svc.ns.svc.cluster.local', view(service())), ['10.0.0.2']);
  assert.deepEqual(resolveClusterName('svc.ns.svc.cluster.local', view(service(true))), ['10.0.0.2', '10.0.0.3']);
  assert.deepEqual(resolveClusterName('kubernetes.default.svc.cluster.local', view(service())), ['10.0.0.1']);
  assert.equal(resolveClusterName('other.ns.svc.cluster.local', view(service())), undefined);
  assert.equal(resolveClusterName('example.com', view(service())), undefined);
});

test('pod records by dashed IP and hostname.subdomain records of a headless Service', () => {
  const pods = [pod('a', '10.0.0.2', true, { hostname: 'stage-0', subdomain: 'svc' })];
  const view = { gateway: '10.0.0.1', pods: () => pods, service: (n: string) => (n === 'svc' ? service() : undefined) };
  assert.deepEqual(resolveClusterName('10-0-0-2.ns.pod.cluster.local', view), ['10.0.0.2']);
  assert.equal(resolveClusterName('10-0-0-9.ns.pod.cluster.local', view), undefined);
  assert.deepEqual(resolveClusterName('stage-0.svc.ns.svc.cluster.local', view), ['10.0.0.2']);
  assert.equal(resolveClusterName('stage-1.svc.ns.svc.cluster.local', view), undefined);
});
