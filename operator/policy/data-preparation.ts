// A tokens dataset with `prepare` settings is prepared once, onto the job's claim, before the stage
// pods start: by one pod (children/pods.ts buildPreparePod: stage 0's pod running the stage command
// with --prepare-data), as `pipetrain train` prepares before it starts the stages locally. One
// preparer per job, so no two processes write the folder at once; prepare's own cache makes it a
// no-op when the data is already prepared (a job applied again, a pod deleted by hand). The pod's end
// is the decision: Succeeded lets the stages be created (now and after every restart); Failed with a
// permanent exit code (the one restart policy: trainer/src/contract/restart-policy.ts) fails the job
// with the reason prepare printed; any other end (exit 1, an eviction, an OOM kill) prepares again,
// under the stages' restart budget and back-off. A pod being deleted is judged only once it is gone:
// a deleted pod ends Failed (exit 143) while its deletion is under way.
import { isPermanentExit, maxRestartsOf } from '../../trainer/src/contract/index.ts';
import { Conditions, Reasons } from '../constants.ts';
import { buildPreparePod, checkpointClaimOf } from '../children/pods.ts';
import { preparePodName } from '../children/names.ts';
import { attemptOf, deletePods, type JobContext } from './context.ts';
import { restartDelayMs } from './failure-policy.ts';
import { fail } from './lifecycle.ts';
import { containerStatus, exitCodeOf, finishedAt, podState } from './pod-state.ts';

type PreparePod = NonNullable<JobContext['preparePod']>;

/** Re-check while a deleted preparation pod goes (ms); its removal is a pod event, this a safety net. */
const DELETION_RECHECK_MS = 2_000;

/** True while stage pods must wait for the data (or the preparation failed the job). */
export async function handleDataPreparation(ctx: JobContext): Promise<boolean> {
  const dataset = ctx.job.spec.data.dataset;
  if (dataset.type !== 'tokens' || !dataset.prepare) return false;
  // Only creating stage pods waits for the data; running ones are left alone.
  if (ctx.current.every((pod) => pod !== undefined)) return false;
  const pod = ctx.preparePod;
  const { draft } = ctx;
  const name = preparePodName(ctx.name);
  const state = podState(pod);
  if (state === 'Succeeded') return false;
  // Suspended, restarted or deleted by hand: it ends Failed (143) while it goes; that is no verdict.
  if (pod?.metadata?.deletionTimestamp) {
    draft.requeue(DELETION_RECHECK_MS);
    return true;
  }
  if (state === 'Missing') {
    await ctx.env.actions.createPod(buildPreparePod({
      job: ctx.job,
      namespace: ctx.namespace,
      owner: ctx.owner,
      attempt: ctx.attempt,
      partition: ctx.partition,
      defaultImage: ctx.env.defaultImage,
      command: ctx.env.stageCommand,
      avoidNodes: draft.status.avoidNodes,
      checkpointClaim: checkpointClaimOf(ctx.job),
    }));
    // Preparing is part of the run: activeDeadlineSeconds counts from here.
    draft.status.startTime ??= draft.now;
    const message = `Preparing ${dataset.path} from spec.data.dataset.prepare in pod ${name} before the stages start`;
    draft.event('Normal', Reasons.PreparingData, message);
    return true;
  }
  if (state === 'Failed') {
    // An earlier attempt's failure was already counted (its retry is this attempt): only remove it.
    if (attemptOf(pod!) < ctx.attempt) await deletePods(ctx, [pod]);
    else await retryOrFail(ctx, pod!, name);
    return true;
  }
  // Pending or running: its next change is a pod event, which reconciles again.
  return true;
}

/**
 * A failed preparation: a permanent exit or a spent restart budget fails the job; anything else
 * counts a restart (status.restarts, lastFailure) and prepares again after the stages' back-off
 * (restart.ts restartBackoffLeft holds the new pod back until then).
 */
async function retryOrFail(ctx: JobContext, pod: PreparePod, name: string): Promise<void> {
  const { draft } = ctx;
  const exitCode = exitCodeOf(pod);
  const why = preparationFailure(pod, name);
  if (isPermanentExit(exitCode)) {
    await fail(ctx, Reasons.DataPreparationFailed, `${why}; fix the data or the settings and create the job again`);
    return;
  }
  const restarts = draft.status.restarts ?? 0;
  const maxRestarts = maxRestartsOf(ctx.job.spec.failurePolicy);
  if (restarts >= maxRestarts) {
    await fail(ctx, Reasons.DataPreparationFailed, `${why}; maxRestarts (${maxRestarts}) reached`);
    return;
  }
  const reason = pod.status?.reason === 'Evicted' ? Reasons.PodEvicted : Reasons.StageFailed;
  const failedAt = finishedAt(pod);
  draft.status.restarts = restarts + 1;
  draft.status.lastFailure = {
    pod: name,
    node: pod.spec?.nodeName,
    reason,
    message: why,
    exitCode,
    attempt: ctx.attempt,
    failedAt: failedAt !== undefined ? new Date(failedAt).toISOString() : undefined,
    detectedAt: new Date(ctx.env.now).toISOString(),
    stepAtFailure: draft.status.step,
  };
  const delay = restartDelayMs(restarts + 1);
  const retry = `preparing again (restart ${restarts + 1} of ${maxRestarts}) in ${delay / 1000} s: exit code ${exitCode ?? 'unknown'} is not permanent, so a retry may help`;
  draft.condition({ type: Conditions.Restarting, status: 'True', reason, message: `${why}; ${retry}` });
  draft.event('Warning', reason, `${why}; ${retry}`);
  await deletePods(ctx, [pod]);
  draft.requeue(delay);
}

/** Why the preparation pod failed: its exit code and the last lines it logged (prepare's reason). */
function preparationFailure(pod: PreparePod, name: string): string {
  const terminated = containerStatus(pod)?.state?.terminated;
  const lines = terminated?.message?.trim().split('\n').slice(-3).join(' | ').slice(0, 500);
  const why = pod.status?.reason === 'Evicted' ? `was evicted: ${pod.status.message ?? ''}`.trim() : `exited with code ${terminated?.exitCode ?? 'unknown'}`;
  return `spec.data.dataset.prepare failed: pod ${name} ${why}${lines ? `: ${lines}` : ''}`;
}
