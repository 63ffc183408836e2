// Lifecycle steps of the reconcile: a finished job (clean-up, TTL), success, the active deadline,
// and suspend / resume. Each returns true when it decided the outcome of this reconcile.
import { Conditions, Reasons } from '../constants.ts';
import { isTrue } from './conditions.ts';
import { deletePods, type JobContext } from './context.ts';
import { podState, toMs } from './pod-state.ts';

const ms = (iso: string | undefined): number | undefined => (iso ? Date.parse(iso) : undefined);

/** Finished (Succeeded or Failed): remove pods that still run, apply ttlSecondsAfterFinished. */
export async function handleFinished(ctx: JobContext): Promise<boolean> {
  const { status } = ctx.draft;
  const succeeded = isTrue(status.conditions, Conditions.Succeeded);
  if (!succeeded && !isTrue(status.conditions, Conditions.Failed)) return false;
  // After success nothing is left to debug; after failure, ended pods stay for their logs.
  const pods = [...ctx.current, ...ctx.stale, ctx.preparePod].filter((p) => p && (succeeded || !['Failed', 'Succeeded'].includes(podState(p))));
  await deletePods(ctx, pods);
  if (!succeeded) observeEndedStages(ctx);
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

/**
 * What the end of training says: the final step and loss, and where the run started when it
 * resumed a checkpoint written before this job existed (a deleted job of the same name left its
 * claim; docs/operator.md) — in particular when that checkpoint left nothing to train.
 */
export function finishedMessage(ctx: JobContext): string {
  const { status } = ctx.draft;
  const progress = ctx.env.progress(ctx.namespace, ctx.name);
  const final = `final step ${status.step ?? 'unknown'}${status.loss ? `, loss ${status.loss}` : ''}`;
  const from = ctx.attempt === 0 && progress?.attempt === 0 ? progress.resumedFrom : undefined;
  if (from === undefined) return `Training finished: ${final}`;
  const at = progress?.resumedCheckpointAt;
  const created = toMs(ctx.object.metadata.creationTimestamp);
  // creationTimestamp has whole seconds: a job applied again within the second of the old job's last
  // commit is created "at" that second's start. This job cannot have committed within its first
  // second (its pods must start and train first), so a commit before the next second is earlier.
  const writtenBefore = at !== undefined && created !== undefined && Date.parse(at) < created + 1000;
  const writer = writtenBefore ? `written by an earlier job of this name at ${at}` : `committed at ${at ?? 'an unknown time'}`;
  const nothingLeft = status.totalSteps !== undefined && from >= status.totalSteps;
  return `${nothingLeft ? 'Nothing left to train' : 'Training finished'}: resumed from step ${from}, ${writer}; ${final}`;
}

/** Every stage exited 0: the job succeeded. */
export function handleSucceeded(ctx: JobContext): boolean {
  if (!ctx.current.every((pod) => podState(pod) === 'Succeeded')) return false;
  const { draft } = ctx;
  draft.status.completionTime = draft.now;
  // A stage exits 0 only after its last step, so the job is at its last step even if the last poll was earlier.
  if (draft.status.totalSteps !== undefined) draft.status.step = draft.status.totalSteps;
  draft.condition({ type: Conditions.Running, status: 'False', reason: Reasons.AllStagesSucceeded, message: 'Training finished' });
  draft.condition({ type: Conditions.Restarting, status: 'False', reason: Reasons.AllStagesSucceeded, message: 'Training finished' });
  const message = finishedMessage(ctx);
  draft.condition({ type: Conditions.Succeeded, status: 'True', reason: Reasons.AllStagesSucceeded, message });
  draft.event('Normal', Reasons.AllStagesSucceeded, message);
  draft.requeue(0); // next reconcile cleans up the pods (handleFinished)
  return true;
}

/**
 * A failed job's stages as they are now (progress is no longer read): an ended pod keeps its state,
 * one the operator is deleting is Terminating, and a deleted one Missing; none stays Running.
 */
function observeEndedStages(ctx: JobContext): void {
  for (const entry of ctx.draft.status.stages ?? []) {
    const pod = ctx.current[entry.stage];
    if (pod) entry.state = podState(pod) === 'Failed' || podState(pod) === 'Succeeded' ? podState(pod) : 'Terminating';
    else if (entry.state !== 'Failed' && entry.state !== 'Succeeded') entry.state = 'Missing';
  }
}

export async function fail(ctx: JobContext, reason: string, message: string): Promise<void> {
  const { draft } = ctx;
  draft.status.completionTime = draft.now;
  draft.condition({ type: Conditions.Failed, status: 'True', reason, message });
  draft.condition({ type: Conditions.Running, status: 'False', reason, message: 'The job failed' });
  draft.condition({ type: Conditions.Restarting, status: 'False', reason, message: 'The job failed' });
  draft.event('Warning', reason, message);
  await deletePods(ctx, [...ctx.current, ...ctx.stale, ctx.preparePod].filter((p) => p && !['Failed', 'Succeeded'].includes(podState(p))));
  observeEndedStages(ctx);
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
  // A preparation under way stops too (it starts again on resume; a finished one is kept).
  const preparing = ctx.preparePod && podState(ctx.preparePod) !== 'Succeeded' ? [ctx.preparePod] : [];
  await deletePods(ctx, [...ctx.current, ...ctx.stale, ...preparing]);
  if (!wasSuspended) {
    draft.condition({ type: Conditions.Suspended, status: 'True', reason: Reasons.Suspended, message: 'spec.suspend is true: stage pods deleted, checkpoints kept' });
    draft.condition({ type: Conditions.Running, status: 'False', reason: Reasons.Suspended, message: 'The job is suspended' });
    draft.event('Normal', Reasons.Suspended, 'Suspended the job: deleted its stage pods');
  }
  return true;
}
