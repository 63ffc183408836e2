// Fluent-ish builders for the operator's unit tests: a valid job object, stage pods in a given
// state, nodes and leases, and a recording ChildActions.
import type * as k8s from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Labels } from '../../operator/constants.ts';
import type { ReconcileEnv } from '../../operator/policy/context.ts';
import type { ChildActions } from '../../operator/policy/draft.ts';
import type { PipelineJobObject } from '../../operator/policy/job.ts';

export const NOW = Date.parse('2026-01-01T00:00:00Z');

export function jobObject(spec: (s: Record<string, unknown>) => void = () => undefined, status?: PipelineJobObject['status']): PipelineJobObject {
  const file = parse(readFileSync(new URL('../fixtures/tiny-job.yaml', import.meta.url), 'utf8')) as { spec: Record<string, unknown> };
  spec(file.spec);
  return {
    apiVersion: 'pipetrain.io/v1alpha1',
    kind: 'PipelineJob',
    metadata: { name: 'tiny', namespace: 'ns', uid: 'uid-1', generation: 1, resourceVersion: '7' },
    spec: file.spec,
    status,
  };
}

export type PodPhase = 'Pending' | 'Ready' | 'Running' | { exit: number } | 'Deleting';

export function stagePod(stage: number, state: PodPhase, options: { attempt?: number; node?: string; uid?: string } = {}): k8s.V1Pod {
  const pod: k8s.V1Pod = {
    metadata: {
      name: `tiny-stage-${stage}`,
      namespace: 'ns',
      labels: { [Labels.job]: 'tiny', [Labels.stage]: String(stage), [Labels.attempt]: String(options.attempt ?? 0) },
      ownerReferences: [{ apiVersion: 'pipetrain.io/v1alpha1', kind: 'PipelineJob', name: 'tiny', uid: options.uid ?? 'uid-1', controller: true }],
    },
    spec: { nodeName: options.node ?? `node-${stage}`, containers: [{ name: 'stage' }] },
    status: { phase: 'Pending' },
  };
  if (state === 'Ready' || state === 'Running' || state === 'Deleting') {
    pod.status = { phase: 'Running', conditions: [{ type: 'Ready', status: state === 'Ready' ? 'True' : 'False' }], containerStatuses: [{ name: 'stage', ready: state === 'Ready', restartCount: 0, image: 'x', imageID: '', state: { running: {} } }] };
  }
  if (state === 'Deleting') pod.metadata!.deletionTimestamp = new Date(NOW);
  if (typeof state === 'object') {
    pod.status = {
      phase: state.exit === 0 ? 'Succeeded' : 'Failed',
      containerStatuses: [{ name: 'stage', ready: false, restartCount: 0, image: 'x', imageID: '', state: { terminated: { exitCode: state.exit, finishedAt: new Date(NOW - 1000) } } }],
    };
  }
  return pod;
}

export function readyNode(name: string, ready = true): k8s.V1Node {
  return { metadata: { name }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'KubeletReady' : 'NodeStatusUnknown' }] } };
}

export function nodeLease(name: string, renewedMsAgo: number): k8s.V1Lease {
  return { metadata: { name, namespace: 'kube-node-lease' }, spec: { renewTime: new Date(NOW - renewedMsAgo).toISOString() as unknown as Date } };
}

export function recordingActions(): ChildActions & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    createPod: (pod) => Promise.resolve(void calls.push(`create pod ${pod.metadata?.name} attempt=${pod.metadata?.labels?.[Labels.attempt]}`)),
    deletePod: (_ns, name, force) => Promise.resolve(void calls.push(`delete pod ${name}${force ? ' force' : ''}`)),
    createSecret: (s) => Promise.resolve(void calls.push(`create secret ${s.metadata?.name}`)),
    createService: (s) => Promise.resolve(void calls.push(`create service ${s.metadata?.name}`)),
    createClaim: (c) => Promise.resolve(void calls.push(`create claim ${c.metadata?.name}`)),
    deleteJob: (_ns, name) => Promise.resolve(void calls.push(`delete job ${name}`)),
  };
}

export function testEnv(options: { nodes?: k8s.V1Node[]; leases?: k8s.V1Lease[]; now?: number } = {}): ReconcileEnv & { actions: ReturnType<typeof recordingActions> } {
  const nodes = options.nodes ?? [0, 1, 2].map((i) => readyNode(`node-${i}`));
  const leases = options.leases ?? [];
  return {
    now: options.now ?? NOW,
    actions: recordingActions(),
    nodes: { node: (n) => nodes.find((x) => x.metadata?.name === n), lease: (n) => leases.find((x) => x.metadata?.name === n), leases: () => leases },
    progress: () => undefined,
    defaultImage: 'img:1',
    stageCommand: ['node', 'stage'],
  };
}
