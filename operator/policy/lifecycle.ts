// Lifecycle steps of the reconcile: a finished job (clean-up, TTL), success, the active deadline,
// and suspend / resume. Each returns true when it decided the outcome of this reconcile.
import { Conditions, Reasons } from '../constants.ts';
import { isTrue } from './conditions.ts';
import { deletePods, type JobContext } from './context.ts';
import { podState } from './pod-state.ts';

const ms = (iso: string | undefined): number | undefined => (iso ? Date.parse(iso) : undefined);

/** Finished (Succeeded or Failed): remove pods that still run, apply ttlSecondsAfterFinished. */
export async function handleFinished(ctx: JobContext): Promise<boolean> {
  const { status } = ctx.draft;
  const succeeded = isTrue(status.conditions, Conditions.Succeeded);
  if (!succeeded && !isTrue(status.conditions, Conditions.Failed)) return false;
  // After success nothing is left to debug; after failure, ended pods stay for their logs.
  const pods = [...ctx.current, ...ctx.stale].filter((p) => p && (succeeded || !['Failed', 'Succeeded'].includes(podState(p))));
  await deletePods(ctx, pods);
  const ttl = ctx.job.spec.ttlSecondsAfterFinished;
  const finishedAt = ms(status.completionTime);
  if (ttl !== undefined && finishedAt !== undefined) {
    const left = finishedAt + ttl * 1000 - ctx.env.now;
    if (left <= 0) {
      await ctx.env.actions.deleteJob(ctx.namespace, ctx.name);
      ctx.draft.event('Normal', Reasons.TTLExpired, `Deleted the job ${ttl} s after it finished`);
    } else ctx.draft.requeue(left);
  }
  return true;
}

/** Every stage exited 0: the job succeeded. */
export function handleSucceeded(ctx: JobContext): boolean {
  if (!ctx.current.every((pod) => podState(pod) === 'Succeeded')) return false;
  const { draft } = ctx;
  draft.status.completionTime = draft.now;
  // A stage exits 0 only after its last step, so the job is at its last step even if the last poll was earlier.
  if (draft.status.totalSteps !== undefined) draft.status.step = draft.status.totalSteps;
  draft.condition({ type: Conditions.Succeeded, status: 'True', reason: Reasons.AllStagesSucceeded, message: `All ${ctx.partition.length} stages finished training` });
  draft.condition({ type: Conditions.Running, status: 'False', reason: Reasons.AllStagesSucceeded, message: 'Training finished' });
  draft.condition({ type: Conditions.Restarting, status: 'False', reason: Reasons.AllStagesSucceeded, message: 'Training finished' });
  draft.event('Normal', Reasons.AllStagesSucceeded, `Training finished at step ${draft.status.step ?? '?'}${draft.status.loss ? ` with loss ${draft.status.loss}` : ''}`);
  draft.requeue(0); // next reconcile cleans up the pods (handleFinished)
  return true;
}

export async function fail(ctx: JobContext, reason: string, message: string): Promise<void> {
  const { draft } = ctx;
  draft.status.completionTime = draft.now;
  draft.condition({ type: Conditions.Failed, status: 'True', reason, message });
  draft.condition({ type: Conditions.Running, status: 'False', reason, message: 'The job failed' });
  draft.condition({ type: Conditions.Restarting, status: 'False', reason, message: 'The job failed' });
  draft.event('Warning', reason, message);
  await deletePods(ctx, [...ctx.current, ...ctx.stale].filter((p) => p && !['Failed', 'Succeeded'].includes(podState(p))));
}

/** activeDeadlineSeconds since startTime: past it, the job fails. */
export async function handleDeadline(ctx: JobContext): Promise<boolean> {
  const deadline = ctx.job.spec.activeDeadlineSeconds;
  const start = ms(ctx.draft.status.startTime);
  if (deadline === undefined || start === undefined) return false;
  const left = start + deadline * 1000 - ctx.env.now;
  if (left > 0) {
    ctx.draft.requeue(left);
    return false;
  }
  await fail(ctx, Reasons.DeadlineExceeded, `The job ran longer than activeDeadlineSeconds (${deadline} s)`);
  return true;
}

/** suspend: true deletes the pods (checkpoints stay); false again resumes with a new attempt. */
export async function handleSuspend(ctx: JobContext): Promise<boolean> {
  const { draft } = ctx;
  const wasSuspended = isTrue(draft.status.conditions, Conditions.Suspended);
  if (!ctx.job.spec.suspend) {
    if (wasSuspended) {
      draft.condition({ type: Conditions.Suspended, status: 'False', reason: Reasons.Resumed, message: 'The job was resumed' });
      draft.event('Normal', Reasons.Resumed, 'Resumed the job: stages start from the last checkpoint');
    }
    return false;
  }
  await deletePods(ctx, [...ctx.current, ...ctx.stale]);
  if (!wasSuspended) {
    draft.condition({ type: Conditions.Suspended, status: 'True', reason: Reasons.Suspended, message: 'spec.suspend is true: stage pods deleted, checkpoints kept' });
    draft.condition({ type: Conditions.Running, status: 'False', reason: Reasons.Suspended, message: 'The job is suspended' });
    draft.event('Normal', Reasons.Suspended, 'Suspended the job: deleted its stage pods');
  }
  return true;
}
