// Gang restart: when the failure policy finds a broken attempt, every pod of it goes (forced when
// its node is gone), the next attempt starts after a back-off and avoids the failed node. Permanent
// failures and spent maxRestarts fail the job instead.
import type * as k8s from '@kubernetes/client-node';
import { maxRestartsOf } from '../../trainer/src/contract/index.ts';
import { Conditions, Labels, Reasons } from '../constants.ts';
import { deletePods, type JobContext } from './context.ts';
import { detectFailure, peerLostGraceLeft, restartDelayMs } from './failure-policy.ts';
import { fail } from './lifecycle.ts';
import type { NodeProblem, NodeVerdict } from './node-health.ts';
import { exitCodeOf } from './pod-state.ts';
import { checkpointClaimOf } from '../children/pods.ts';

/** Pods of earlier attempts must be gone before the next attempt's pods (same names) are created. */
export async function removeStalePods(ctx: JobContext): Promise<boolean> {
  if (ctx.stale.length === 0) return false;
  // Delete only once the cached job holds the avoided node: the next attempt's pods are created from it.
  if (blameDeadNode(ctx)) {
    ctx.draft.requeue(200);
    return true;
  }
  await deletePods(ctx, ctx.stale);
  ctx.draft.requeue(2_000); // deletions arrive as pod events; this is only a safety net
  return true;
}

/**
 * A dead node kills its stage processes at once, so the neighbours' "peer lost" (exit 3) is usually
 * seen before the node's Lease expires, and the restart is blamed on that symptom. The dead node's
 * pod then waits here (its deletion is forced only once the node is judged dead): when that happens,
 * avoid the node in the next attempt and, if the restart was blamed on PeerLost, name the real cause.
 * True when the status changed.
 */
function blameDeadNode(ctx: JobContext): boolean {
  const { status } = ctx.draft;
  const failure = status.lastFailure;
  if (!failure || failure.recoveredAt) return false;
  const suspect = deadNodeSuspect(ctx);
  if (!suspect) return false;
  const { pod, node, verdict } = suspect;
  let changed = false;
  if (!status.avoidNodes?.includes(node)) {
    status.avoidNodes = [...(status.avoidNodes ?? []), node];
    changed = true;
  }
  if (failure.reason === Reasons.PeerLost) {
    changed = true;
    const stage = Number(pod.metadata?.labels?.[Labels.stage]);
    status.lastFailure = {
      ...failure,
      stage: Number.isInteger(stage) ? stage : undefined,
      pod: pod.metadata?.name,
      node,
      reason: verdict.problem,
      message: `${verdict.message ?? verdict.problem} (its neighbours lost it first)`,
      exitCode: undefined,
      failedAt: verdict.failedAt !== undefined ? new Date(verdict.failedAt).toISOString() : failure.failedAt,
    };
    ctx.draft.event('Warning', verdict.problem, `${status.lastFailure.message}: the next attempt avoids node ${node}`);
  }
  return changed;
}

/**
 * The stale pod whose node is judged dead, the one silent the longest if several are. A pod whose
 * exit code its node reported is no suspect: that node was alive after the failure. (Not the pod
 * phase: the control plane sets Failed itself on pods of deleted nodes.)
 */
function deadNodeSuspect(ctx: JobContext): { pod: k8s.V1Pod; node: string; verdict: NodeVerdict & { problem: NodeProblem } } | undefined {
  const suspects = ctx.stale.flatMap((pod) => {
    const node = pod.spec?.nodeName;
    if (!node || exitCodeOf(pod) !== undefined) return [];
    const verdict = ctx.verdict(node);
    return verdict.problem ? [{ pod, node, verdict: { ...verdict, problem: verdict.problem } }] : [];
  });
  return suspects.sort((a, b) => (a.verdict.failedAt ?? Infinity) - (b.verdict.failedAt ?? Infinity))[0];
}

/** A failed attempt → Failed, or Restarting with all its pods deleted. True when one was found. */
export async function handleFailure(ctx: JobContext): Promise<boolean> {
  const failure = detectFailure(ctx.current, ctx.verdict);
  if (!failure) return false;
  const { draft } = ctx;
  // Only neighbours' "peer lost" so far: give the lost stage's own failure a moment to arrive.
  const graceLeft = peerLostGraceLeft(failure, ctx.current, ctx.env.now, { verdict: ctx.verdict, nodeFailureSeconds: ctx.nodeFailureSeconds });
  if (graceLeft > 0) {
    draft.requeue(graceLeft);
    return true;
  }
  if (failure.permanent) {
    await fail(ctx, Reasons.InvalidJob, `${failure.message}; not retried`);
    return true;
  }
  const restarts = draft.status.restarts ?? 0;
  const maxRestarts = maxRestartsOf(ctx.job.spec.failurePolicy);
  if (restarts >= maxRestarts) {
    await fail(ctx, Reasons.MaxRestartsReached, `${failure.message}; maxRestarts (${maxRestarts}) reached`);
    return true;
  }
  const detectedAt = ctx.env.now;
  const step = draft.status.step;
  draft.status.restarts = restarts + 1;
  draft.status.lastFailure = {
    stage: failure.stage,
    pod: failure.pod,
    node: failure.node,
    reason: failure.reason,
    message: failure.message,
    exitCode: failure.exitCode,
    attempt: ctx.attempt,
    failedAt: failure.failedAt !== undefined ? new Date(failure.failedAt).toISOString() : undefined,
    detectedAt: new Date(detectedAt).toISOString(),
    stepAtFailure: step,
    // With a claim, the next attempt's stages report exactly what they train again (stage-status.ts);
    // without one, nothing survives and every step so far is trained again.
    lostSteps: checkpointClaimOf(ctx.job) ? undefined : step,
  };
  if (failure.avoidNode && failure.node) draft.status.avoidNodes = [failure.node];
  const delay = restartDelayMs(restarts + 1);
  draft.condition({ type: Conditions.Restarting, status: 'True', reason: failure.reason, message: `${failure.message}; restart ${restarts + 1} of ${maxRestarts} in ${delay / 1000} s` });
  draft.condition({ type: Conditions.Running, status: 'False', reason: failure.reason, message: 'Restarting all stages' });
  draft.event('Warning', failure.reason, `${failure.message}: restarting all ${ctx.partition.length} stages (restart ${restarts + 1} of ${maxRestarts})`);
  draft.observations.lostSteps = draft.status.lastFailure.lostSteps;
  if (failure.failedAt !== undefined) draft.observations.detectionSeconds = Math.max(0, (detectedAt - failure.failedAt) / 1000);
  await deletePods(ctx, ctx.current);
  draft.requeue(delay);
  return true;
}

/** Time left of the back-off before the next attempt may start (0 when it may start now). */
export function restartBackoffLeft(ctx: JobContext): number {
  const failure = ctx.draft.status.lastFailure;
  if (!failure || failure.recoveredAt || !ctx.current.every((p) => p === undefined)) return 0;
  const detectedAt = Date.parse(failure.detectedAt);
  return Math.max(0, detectedAt + restartDelayMs(ctx.draft.status.restarts ?? 1) - ctx.env.now);
}
