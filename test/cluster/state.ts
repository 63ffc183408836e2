// Where a test cluster keeps its state, and the host-global names (bridge, network namespaces) it owns.
// Every name carries the cluster's run id, so stale ones can be told apart from live clusters.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageConfig } from './images.ts';
import { cacheRoot } from './tools.ts';

/** Everything needed to use, control or clean up a running cluster; written to `<stateDir>/cluster.json`. */
export interface ClusterState {
  runId: string;
  stateDir: string;
  binDir: string;
  kubeconfig: string;
  /** Bearer token of the `system:masters` admin user (also in the kubeconfig). */
  adminToken: string;
  apiPort: number;
  etcdPort: number;
  /** The API server's serving CA, also mounted into pods as `ca.crt`. */
  caFile: string;
  nodes: string[];
  /** `/24` of the pod network, e.g. `10.250.17`. The bridge (gateway) is `.1`, pods get `.2` and up. */
  subnet: string;
  gateway: string;
  bridge: string;
  nodeMonitorGracePeriodSeconds: number;
  /** Process that owns the cluster; when it is gone the cluster is stale. `null` for `cluster:up` clusters. */
  ownerPid: number | null;
  pids: Record<string, number>;
  /** How each component was started, so a fault test can restart it the same way. */
  commands?: Record<string, { cmd: string; args: string[] }>;
  startedAt: string;
  /** ENTRYPOINT/CMD of images the agent knows (containers without `command`), by repository. */
  images?: Record<string, ImageConfig>;
}

export const RUN_ID_PATTERN = /^[0-9a-f]{6}$/;

/** All cluster state directories live here, one per run id (`PIPETRAIN_CLUSTERS_DIR` overrides it). */
export function clustersRoot(): string {
  return process.env.PIPETRAIN_CLUSTERS_DIR || join(cacheRoot(), 'clusters');
}

/** The pointer written by `cluster:up` to its cluster's state directory. */
export function currentClusterFile(): string {
  return join(clustersRoot(), 'current');
}

export const bridgeName = (runId: string): string => `ptbr${runId}`;
export const netnsPrefix = (runId: string): string => `pt-${runId}-`;
export const netnsName = (runId: string, index: number): string => `${netnsPrefix(runId)}${index}`;
/** Host side of a pod's veth pair (at most 15 characters). */
export const hostVethName = (runId: string, index: number): string => `pv${runId}${index.toString(36)}`;
export const NETNS_PATTERN = /^pt-([0-9a-f]{6})-\d+$/;
export const BRIDGE_PATTERN = /^ptbr([0-9a-f]{6})$/;

export function readState(stateDir: string): ClusterState {
  return JSON.parse(readFileSync(join(stateDir, 'cluster.json'), 'utf8')) as ClusterState;
}

export const controlSocket = (stateDir: string): string => join(stateDir, 'agent.sock');
export const componentLog = (stateDir: string, component: string): string => join(stateDir, 'logs', `${component}.log`);
/** Per-pod directory: `<stateDir>/pods/<namespace>/<name>/<uid>/` holds `log`, volumes, token. */
export const podDir = (stateDir: string, namespace: string, name: string, uid: string): string =>
  join(stateDir, 'pods', namespace, name, uid);
