// Is the node under a stage pod still alive? Kubernetes itself marks a node NotReady only after its
// node-monitor grace period (50 s by default) and evicts after 300 s more; the operator looks at
// the node's heartbeat Lease directly, so a dead node is noticed after nodeFailureSeconds.
//
// A Lease's age is measured against the newest renewal of any node's Lease, not against our clock:
// when our watch lags (a starved operator, a slow API server) every Lease looks old at once, and
// only a node that fell behind the others is dead. This also ignores clock skew with the nodes.
import type * as k8s from '@kubernetes/client-node';
import { Reasons } from './constants.ts';

export type NodeProblem = typeof Reasons.NodeGone | typeof Reasons.NodeNotReady | typeof Reasons.NodeLeaseExpired;

export interface NodeVerdict {
  problem?: NodeProblem;
  message?: string;
  /** Best estimate of when the node died (its last heartbeat), ms since the epoch. */
  failedAt?: number;
  /** When the problem clears by itself (the lease would expire), for a timed re-check. */
  recheckInMs?: number;
}

export interface NodeLookup {
  node(name: string): k8s.V1Node | undefined;
  /** The node's Lease in kube-node-lease (same name as the node). */
  lease(name: string): k8s.V1Lease | undefined;
  /** Every node Lease in the cache. */
  leases(): readonly k8s.V1Lease[];
}

export const renewedAt = (lease: k8s.V1Lease | undefined): number | undefined => toMs(lease?.spec?.renewTime);

/** The newest renewal among all node Leases (ms since the epoch): "now" as the nodes' heartbeats tell it. */
export function newestRenewal(lookup: NodeLookup): number | undefined {
  let newest: number | undefined;
  for (const lease of lookup.leases()) {
    const at = renewedAt(lease);
    if (at !== undefined && (newest === undefined || at > newest)) newest = at;
  }
  return newest;
}

function toMs(time: unknown): number | undefined {
  if (time === undefined || time === null) return undefined;
  const ms = time instanceof Date ? time.getTime() : Date.parse(String(time));
  return Number.isFinite(ms) ? ms : undefined;
}

/** `newest` is `newestRenewal(lookup)`, passed in so one reconcile computes it once. */
export function judgeNode(nodeName: string, lookup: NodeLookup, newest: number | undefined, nodeFailureSeconds: number): NodeVerdict {
  const node = lookup.node(nodeName);
  const renewed = renewedAt(lookup.lease(nodeName));
  if (!node) return { problem: Reasons.NodeGone, message: `node ${nodeName} no longer exists`, failedAt: renewed };
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready && ready.status !== 'True') {
    const failedAt = renewed ?? toMs(ready.lastHeartbeatTime);
    return { problem: Reasons.NodeNotReady, message: `node ${nodeName} is NotReady (${ready.reason ?? 'no reason'})`, failedAt };
  }
  if (renewed === undefined || newest === undefined) return {};
  const age = newest - renewed;
  const limit = nodeFailureSeconds * 1000;
  if (age > limit) {
    return {
      problem: Reasons.NodeLeaseExpired,
      message: `node ${nodeName} has not renewed its Lease for ${Math.round(age / 1000)} s while other nodes did (limit ${nodeFailureSeconds} s)`,
      failedAt: renewed,
    };
  }
  return { recheckInMs: limit - age + 100 };
}

/** A node that is gone or unreachable will never confirm a graceful deletion: force it. */
export const needsForceDelete = (verdict: NodeVerdict): boolean => verdict.problem !== undefined;
