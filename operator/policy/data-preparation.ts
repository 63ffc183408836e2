// A tokens dataset with `prepare` settings is prepared once, onto the job's claim, before the stage
// pods start: by one pod (children/pods.ts buildPreparePod: stage 0's pod running the stage command
// with --prepare-data), as `pipetrain train` prepares before it starts the stages locally. One
// preparer per job, so no two processes write the folder at once; prepare's own cache makes it a
// no-op when the data is already prepared (a job applied again, a pod deleted by hand). The pod's end
// is the decision: Succeeded lets the stages be created (now and after every restart), Failed fails
// the job with the reason prepare printed.
import { Reasons } from '../constants.ts';
import { buildPreparePod, checkpointClaimOf } from '../children/pods.ts';
import { preparePodName } from '../children/names.ts';
import type { JobContext } from './context.ts';
import { fail } from './lifecycle.ts';
import { containerStatus, podState } from './pod-state.ts';

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
  if (state === 'Missing') {
    await ctx.env.actions.createPod(buildPreparePod({
      job: ctx.job,
      namespace: ctx.namespace,
      owner: ctx.owner,
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
    await fail(ctx, Reasons.DataPreparationFailed, preparationFailure(pod!, name));
    return true;
  }
  // Pending, running or being deleted: its next change is a pod event, which reconciles again.
  return true;
}

/** Why the preparation pod failed: its exit code and the last lines it logged (prepare's reason). */
function preparationFailure(pod: NonNullable<JobContext['preparePod']>, name: string): string {
  const terminated = containerStatus(pod)?.state?.terminated;
  const lines = terminated?.message?.trim().split('\n').slice(-3).join(' | ').slice(0, 500);
  const why = pod.status?.reason === 'Evicted' ? `was evicted: ${pod.status.message ?? ''}`.trim() : `exited with code ${terminated?.exitCode ?? 'unknown'}`;
  return `spec.data.dataset.prepare failed: pod ${name} ${why}${lines ? `: ${lines}` : ''}; fix the data or the settings and create the job again`;
}
