// Is the node under a stage pod still alive? Kubernetes itself marks a node NotReady only after its
// node-monitor grace period (50 s by default) and evicts after 300 s more; the operator looks at
// the node's heartbeat Lease directly, so a dead node is noticed after nodeFailureSeconds.
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
}

const toMs = (time: unknown): number | undefined => {
  if (time === undefined || time === null) return undefined;
  const ms = time instanceof Date ? time.getTime() : Date.parse(String(time));
  return Number.isFinite(ms) ? ms : undefined;
};

export function judgeNode(nodeName: string, lookup: NodeLookup, now: number, nodeFailureSeconds: number): NodeVerdict {
  const node = lookup.node(nodeName);
  const renewedAt = toMs(lookup.lease(nodeName)?.spec?.renewTime);
  if (!node) return { problem: Reasons.NodeGone, message: `node ${nodeName} no longer exists`, failedAt: renewedAt };
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready && ready.status !== 'True') {
    const failedAt = renewedAt ?? toMs(ready.lastHeartbeatTime);
    return { problem: Reasons.NodeNotReady, message: `node ${nodeName} is NotReady (${ready.reason ?? 'no reason'})`, failedAt };
  }
  if (renewedAt === undefined) return {};
  const age = now - renewedAt;
  const limit = nodeFailureSeconds * 1000;
  if (age > limit) {
    return {
      problem: Reasons.NodeLeaseExpired,
      message: `node ${nodeName} has not renewed its Lease for ${Math.round(age / 1000)} s (limit ${nodeFailureSeconds} s)`,
      failedAt: renewedAt,
    };
  }
  return { recheckInMs: limit - age + 100 };
}

/** A node that is gone or unreachable will never confirm a graceful deletion: force it. */
export const needsForceDelete = (verdict: NodeVerdict): boolean => verdict.problem !== undefined;
