// Gang restart: when the failure policy finds a broken attempt, every pod of it goes (forced when
// its node is gone), the next attempt starts after a back-off and avoids the failed node. Permanent
// failures and spent maxRestarts fail the job instead.
import { Conditions, Reasons } from './constants.ts';
import { deletePods, type JobContext } from './context.ts';
import { detectFailure, restartDelayMs } from './failure-policy.ts';
import { fail } from './lifecycle.ts';

/** Pods of earlier attempts must be gone before the next attempt's pods (same names) are created. */
export async function removeStalePods(ctx: JobContext): Promise<boolean> {
  if (ctx.stale.length === 0) return false;
  await deletePods(ctx, ctx.stale);
  ctx.draft.requeue(2_000); // deletions arrive as pod events; this is only a safety net
  return true;
}

/** A failed attempt → Failed, or Restarting with all its pods deleted. True when one was found. */
export async function handleFailure(ctx: JobContext): Promise<boolean> {
  const failure = detectFailure(ctx.current, ctx.verdict);
  if (!failure) return false;
  const { draft } = ctx;
  if (failure.permanent) {
    await fail(ctx, Reasons.InvalidJob, `${failure.message}; not retried`);
    return true;
  }
  const restarts = draft.status.restarts ?? 0;
  const maxRestarts = ctx.job.spec.failurePolicy?.maxRestarts ?? 3;
  if (restarts >= maxRestarts) {
    await fail(ctx, Reasons.MaxRestartsReached, `${failure.message}; maxRestarts (${maxRestarts}) reached`);
    return true;
  }
  const detectedAt = ctx.env.now;
  const step = draft.status.step;
  const checkpoint = draft.status.lastCheckpoint?.step;
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
    lostSteps: step !== undefined ? step - (checkpoint ?? 0) : undefined,
  };
  if (failure.avoidNode && failure.node) draft.status.avoidNodes = [failure.node];
  const delay = restartDelayMs(restarts + 1);
  draft.condition({ type: Conditions.Restarting, status: 'True', reason: failure.reason, message: `${failure.message}; restart ${restarts + 1} of ${maxRestarts} in ${delay / 1000} s` });
  draft.condition({ type: Conditions.Running, status: 'False', reason: failure.reason, message: 'Restarting all stages' });
  draft.event('Warning', failure.reason, `${failure.message}: restarting all ${ctx.partition.length} stages (restart ${restarts + 1} of ${maxRestarts})`);
  draft.observations.restartReason = failure.reason;
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
