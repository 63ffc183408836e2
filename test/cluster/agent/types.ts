// What the node agent knows about its nodes and the pods it runs, and the constants a kubelet would have.
import * as k8s from '@kubernetes/client-node';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');

export const NODE_CAPACITY = { cpu: '8', memory: '32Gi', pods: '110', 'nvidia.com/gpu': '2', 'ephemeral-storage': '100Gi' };
/** How often every node's Lease is renewed (ms); the Lease lasts 40 s. */
export const LEASE_RENEW_MS = 2000;
export const CLUSTER_DOMAIN = 'cluster.local';
/** Port of the API server proxy on the bridge address, as in-cluster clients expect it. */
export const API_PROXY_PORT = 443;

export const strategicMergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);
export const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** metav1.MicroTime wants exactly six fractional digits. */
export const microTime = (d = new Date()): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
/** metav1.Time: whole seconds. */
export const nowTime = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export const log = (msg: string): void => {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
};

export interface NodeRuntime {
  name: string;
  stopped: boolean;
  uid?: string;
  gpusInUse: Set<number>;
  bootID: string;
  reposting?: boolean;
  /** When the node last became Ready (condition lastTransitionTime). */
  readySince: string;
}

export interface PodRun {
  key: string;
  uid: string;
  pod: k8s.V1Pod;
  node: NodeRuntime;
  index: number;
  ip: string;
  netns: string;
  hostVeth: string;
  dir: string;
  gpus: number[];
  proc?: ChildProcess;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  state: k8s.V1ContainerState;
  lastState?: k8s.V1ContainerState;
  restartCount: number;
  ready: boolean;
  started: boolean;
  startTime?: string;
  runStartedMs: number;
  terminating: boolean;
  torn: boolean;
  timers: Set<NodeJS.Timeout>;
  patching: boolean;
  dirty: boolean;
  exited?: Promise<void>;
}
