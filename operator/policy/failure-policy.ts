// Gang failure detection: is the current attempt broken, and why? One stage failing breaks the whole
// pipeline, so the answer is a single Failure (the most telling one) or none. Pure: pods, node
// verdicts and the time in, a decision out.
import type * as k8s from '@kubernetes/client-node';
import { isPermanentExit, PEER_TIMEOUT_MS, restartDelaySeconds, StageExit } from '../../trainer/src/contract/index.ts';
import { Reasons, type RESTART_REASONS } from '../constants.ts';
import type { NodeVerdict } from './node-health.ts';
import { terminationReason } from './termination-reason.ts';
import { containerStatus, exitCodeOf, finishedAt, hasStarted, podState, type PodState } from './pod-state.ts';

export interface Failure {
  stage?: number;
  pod?: string;
  node?: string;
  reason: string;
  message: string;
  exitCode?: number;
  /** Retrying cannot help: the job fails at once. */
  permanent: boolean;
  /** When it happened, where known (ms since the epoch). */
  failedAt?: number;
  /** The failed stage's node is dead or unreachable: the next attempt avoids it. */
  avoidNode?: boolean;
}

/** Container waiting reasons no retry can fix. */
const PERMANENT_WAITING = new Set(['InvalidImageName', 'ErrImageNeverPull']);

// Lower = more telling. A neighbour's "peer lost" is a symptom; the dead peer is the cause.
const RANK: Record<'permanent' | (typeof RESTART_REASONS)[number], number> = {
  permanent: 0,
  [Reasons.NodeGone]: 1,
  [Reasons.NodeNotReady]: 1,
  [Reasons.NodeLeaseExpired]: 1,
  [Reasons.StageFailed]: 2,
  [Reasons.StageStalled]: 2,
  [Reasons.PodEvicted]: 3,
  [Reasons.PodDeleted]: 3,
  [Reasons.PeerLost]: 4,
};

/**
 * `pods[i]` is stage i's pod of the current attempt (undefined = missing). `verdict(node)` judges
 * the node of a scheduled pod.
 */
export function detectFailure(pods: (k8s.V1Pod | undefined)[], verdict: (node: string) => NodeVerdict): Failure | undefined {
  const anyStarted = pods.some((pod) => hasStarted(podState(pod)));
  const failures: Failure[] = [];
  pods.forEach((pod, stage) => {
    const failure = podFailure(pod, stage, anyStarted, verdict);
    if (failure) failures.push(failure);
  });
  const ranks: Record<string, number | undefined> = RANK;
  const rank = (f: Failure) => (f.permanent ? RANK.permanent : (ranks[f.reason] ?? 5));
  return failures.sort((a, b) => rank(a) - rank(b) || (a.failedAt ?? Infinity) - (b.failedAt ?? Infinity))[0];
}

function podFailure(pod: k8s.V1Pod | undefined, stage: number, anyStarted: boolean, verdict: (node: string) => NodeVerdict): Failure | undefined {
  const name = pod?.metadata?.name;
  if (!pod) {
    // Missing while its peers already run: it was deleted (and is gone). Before that: not created yet.
    return anyStarted ? { stage, reason: Reasons.PodDeleted, message: `stage ${stage} pod disappeared`, permanent: false } : undefined;
  }
  const node = pod.spec?.nodeName;
  const state = podState(pod);
  if (state === 'Succeeded') return undefined;
  if (state === 'Failed') {
    const exitCode = exitCodeOf(pod);
    const base = { stage, pod: name, node, exitCode, failedAt: finishedAt(pod) };
    if (pod.status?.reason === 'Evicted') return { ...base, reason: Reasons.PodEvicted, message: `stage ${stage} pod was evicted: ${pod.status.message ?? ''}`.trim(), permanent: false, avoidNode: true };
    if (isPermanentExit(exitCode)) {
      const why = exitCode === StageExit.InvalidJob ? 'the stage reported an invalid job' : 'the image cannot run the stage command';
      return { ...base, reason: Reasons.InvalidJob, message: `stage ${stage} exited with code ${exitCode}: ${why}${terminationText(pod)}`, permanent: true };
    }
    if (exitCode === StageExit.PeerLost) return { ...base, reason: Reasons.PeerLost, message: `stage ${stage} lost a neighbour (exit code ${exitCode})`, permanent: false };
    return { ...base, reason: Reasons.StageFailed, message: `stage ${stage} exited with code ${exitCode ?? 'unknown'}${terminationText(pod)}`, permanent: false };
  }
  const waiting = containerStatus(pod)?.state?.waiting;
  if (waiting?.reason && PERMANENT_WAITING.has(waiting.reason)) {
    return { stage, pod: name, node, reason: Reasons.InvalidJob, message: `stage ${stage} cannot start: ${waiting.reason}: ${waiting.message ?? ''}`.trim(), permanent: true };
  }
  if (node) {
    const judged = verdict(node);
    if (judged.problem) return { stage, pod: name, node, reason: judged.problem, message: judged.message ?? judged.problem, permanent: false, failedAt: judged.failedAt, avoidNode: true };
  }
  if (state === 'Terminating') return { stage, pod: name, node, reason: Reasons.PodDeleted, message: `stage ${stage} pod is being deleted`, permanent: false };
  return undefined;
}

function terminationText(pod: k8s.V1Pod): string {
  const reason = terminationReason(containerStatus(pod)?.state?.terminated?.message);
  return reason ? `: ${reason}` : '';
}

/**
 * How long neighbours' "peer lost" exits wait for the real cause to show, from the first of them
 * (ms). A killed stage and the neighbours that lost it end within milliseconds, but their kubelets
 * report on their own schedules, so the symptom can reach the operator first; 3 s covers the
 * kubelets' 1 s status relist with margin and delays a restart no more than that.
 */
export const PEER_LOST_GRACE_MS = 3_000;

/** Pod states of a stage whose own end may still be on its way. */
const NOT_ENDED = new Set<PodState>(['Pending', 'Running', 'Ready']);

/** How the grace sees the nodes: the reconcile's verdicts and the job's failurePolicy.nodeFailureSeconds. */
export interface GraceNodes {
  verdict(node: string): NodeVerdict;
  nodeFailureSeconds: number;
}

/** Without node information the grace is PEER_LOST_GRACE_MS alone. */
const NO_NODES: GraceNodes = { verdict: () => ({}), nodeFailureSeconds: 0 };

/**
 * Time to wait (ms) before acting on `failure`, 0 to act now. Only when the most telling failure is
 * a neighbour's PeerLost (so every failure is one) and another stage pod has not ended yet: that pod
 * is probably the lost peer, whose failure is on its way. Measured from the first PeerLost exit as
 * its kubelet dated it (whole seconds), never from later than `now`, so a node clock ahead of the
 * operator's cannot stretch the wait by more than its skew. A dead node's failure takes longer to
 * show (silentNodeDeadline): then the wait lasts until its Lease would be declared expired. Pure:
 * pods, node verdicts and the time in.
 */
export function peerLostGraceLeft(failure: Failure, pods: readonly (k8s.V1Pod | undefined)[], now: number, nodes: GraceNodes = NO_NODES): number {
  if (failure.reason !== Reasons.PeerLost || failure.failedAt === undefined) return 0;
  const notEnded = pods.filter((pod) => NOT_ENDED.has(podState(pod)));
  if (notEnded.length === 0) return 0;
  const since = Math.min(failure.failedAt, now);
  const until = Math.max(since + PEER_LOST_GRACE_MS, silentNodeDeadline(notEnded, since, now, nodes) ?? -Infinity);
  return Math.max(0, until - now);
}

/**
 * A node that stopped kills its stages silently: their neighbours exit PEER_TIMEOUT_MS (10 s) after
 * the last frame, but the node's Lease is declared expired only nodeFailureSeconds (15 s) after its
 * last renewal, which came before the silence. Blaming PeerLost in between leaves the dead node
 * unavoided. So while a stage pod that has not ended sits on a node whose Lease is older than the
 * peer timeout (silent as long as the neighbours saw its stage silent, not yet declared failed),
 * wait until that Lease would expire (its verdict's re-check time; the verdict then names the node).
 * Bounded by the first PeerLost exit + nodeFailureSeconds: the Lease was renewed before that exit,
 * so it has expired by then or was renewed, and a lagging reference (node-health.ts) cannot stretch
 * the wait. The latest such time (ms since the epoch), undefined when no node looks silent.
 */
function silentNodeDeadline(pods: readonly (k8s.V1Pod | undefined)[], since: number, now: number, nodes: GraceNodes): number | undefined {
  let until: number | undefined;
  for (const pod of pods) {
    const node = pod?.spec?.nodeName;
    if (!node) continue;
    const { problem, leaseAgeMs, recheckInMs } = nodes.verdict(node);
    if (problem || leaseAgeMs === undefined || recheckInMs === undefined || leaseAgeMs <= PEER_TIMEOUT_MS) continue;
    until = Math.max(until ?? -Infinity, now + recheckInMs);
  }
  return until === undefined ? undefined : Math.min(until, since + nodes.nodeFailureSeconds * 1000 + LEASE_RECHECK_MARGIN_MS);
}

/** Past a Lease's expiry before the re-check (ms): judgeNode's recheckInMs margin. */
const LEASE_RECHECK_MARGIN_MS = 100;

/** Back-off before the n-th restart (n >= 1), the curve of trainer/src/contract/restart-policy.ts. */
export function restartDelayMs(restarts: number): number {
  return restartDelaySeconds(restarts) * 1000;
}
