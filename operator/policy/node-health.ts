// Is the node under a stage pod still alive? Kubernetes itself marks a node NotReady only after its
// node-monitor grace period (50 s by default) and evicts after 300 s more; the operator looks at
// the node's heartbeat Lease directly, so a dead node is noticed after nodeFailureSeconds.
//
// A Lease's age is measured against the newest renewal of any node's Lease when that is older than
// our clock: when our watch lags (a starved operator, a slow API server) every Lease looks old at
// once, and only a node that fell behind the others is dead. A node whose clock runs ahead cannot
// make the others look dead: the reference is never later than our own clock.
import type * as k8s from '@kubernetes/client-node';
import { Reasons } from '../constants.ts';
import { toMs } from './pod-state.ts';

export type NodeProblem = typeof Reasons.NodeGone | typeof Reasons.NodeNotReady | typeof Reasons.NodeLeaseExpired;

export interface NodeVerdict {
  problem?: NodeProblem;
  message?: string;
  /** Best estimate of when the node died (its last heartbeat), ms since the epoch. */
  failedAt?: number;
  /** When the problem clears by itself (the lease would expire), for a timed re-check. */
  recheckInMs?: number;
  /** A healthy node's Lease age, measured as the verdict measures it (from the reference), ms. */
  leaseAgeMs?: number;
}

export interface NodeLookup {
  node(name: string): k8s.V1Node | undefined;
  /** The node's Lease in kube-node-lease (same name as the node). */
  lease(name: string): k8s.V1Lease | undefined;
  /** Every node Lease in the cache. */
  leases(): readonly k8s.V1Lease[];
}

const renewedAt = (lease: k8s.V1Lease | undefined): number | undefined => toMs(lease?.spec?.renewTime);

/** When Lease ages are measured: the newest renewal of any node's Lease, but never after `now`. */
export function leaseReference(lookup: NodeLookup, now: number): number | undefined {
  let newest: number | undefined;
  for (const lease of lookup.leases()) {
    const at = renewedAt(lease);
    if (at !== undefined && (newest === undefined || at > newest)) newest = at;
  }
  return newest === undefined ? undefined : Math.min(newest, now);
}

/** `reference`: `leaseReference(lookup, now)`, passed in so one reconcile computes it once. */
export function judgeNode(nodeName: string, lookup: NodeLookup, reference: number | undefined, nodeFailureSeconds: number): NodeVerdict {
  const node = lookup.node(nodeName);
  const renewed = renewedAt(lookup.lease(nodeName));
  if (!node) return { problem: Reasons.NodeGone, message: `node ${nodeName} no longer exists`, failedAt: renewed };
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready && ready.status !== 'True') {
    const failedAt = renewed ?? toMs(ready.lastHeartbeatTime);
    return { problem: Reasons.NodeNotReady, message: `node ${nodeName} is NotReady (${ready.reason ?? 'no reason'})`, failedAt };
  }
  if (renewed === undefined || reference === undefined) return {};
  const age = reference - renewed;
  const limit = nodeFailureSeconds * 1000;
  if (age > limit) {
    return {
      problem: Reasons.NodeLeaseExpired,
      message: `node ${nodeName} has not renewed its Lease for ${Math.round(age / 1000)} s while other nodes did (limit ${nodeFailureSeconds} s)`,
      failedAt: renewed,
    };
  }
  return { recheckInMs: limit - age + 100, leaseAgeMs: age };
}

/** A node that is gone or unreachable will never confirm a graceful deletion: force it. */
export const needsForceDelete = (verdict: NodeVerdict): boolean => verdict.problem !== undefined;
