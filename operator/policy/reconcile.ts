// The reconcile of one PipelineJob, as a checklist (after JobSet's): each step is a named helper
// that may decide the outcome and end this pass. It reads only the cache and returns a Draft; the
// caller writes the status once, then emits the events. Level-triggered: running it again on the
// same state changes nothing.
import type * as k8s from '@kubernetes/client-node';
import { Conditions, Reasons } from '../constants.ts';
import { getCondition, isTrue, phaseOf } from './conditions.ts';
import { buildContext, type ReconcileEnv } from './context.ts';
import { createMissingPods, ensureChildren } from './create.ts';
import { handleDataPreparation } from './data-preparation.ts';
import { Draft } from './draft.ts';
import { validateJob, type PipelineJobObject } from './job.ts';
import { handleDeadline, handleFinished, handleSucceeded, handleSuspend } from './lifecycle.ts';
import { handleFailure, removeStalePods, restartBackoffLeft } from './restart.ts';
import { observeStages, updateRunning } from './stage-status.ts';

export type { ReconcileEnv } from './context.ts';

export async function reconcileJob(object: PipelineJobObject, pods: readonly k8s.V1Pod[], env: ReconcileEnv): Promise<Draft> {
  const draft = new Draft(object.status, env.now, object.metadata.generation);
  // 0. Set conditions on the first reconcile, even before anything exists (API conventions).
  if (!getCondition(draft.status.conditions, Conditions.Created)) {
    draft.condition({ type: Conditions.Created, status: 'False', reason: Reasons.StagesStarting, message: 'Children not created yet' });
  }
  finish(draft);

  // 1. A spec the operator cannot run: InvalidSpec, no pods, no retries (until the spec changes).
  const validated = validateJob(object);
  if (handleInvalidSpec(draft, validated)) return finish(draft);

  // 2. Read the pods the job owns from the cache; split them by attempt.
  const ctx = buildContext(object, validated.job, validated.partition, pods, env, draft);
  if (draft.status.startTime === undefined) for (const note of validated.notes) draft.event('Normal', Reasons.PartitionFallback, note);
  // A finished job's status stays as it ended (the final step; no poll from before the end undoes it).
  const finished = isTrue(draft.status.conditions, Conditions.Succeeded) || isTrue(draft.status.conditions, Conditions.Failed);
  if (!finished) observeStages(ctx);

  // 3. Finished? Clean up and apply the TTL.
  if (await handleFinished(ctx)) return finish(draft);
  // 4. Every stage succeeded? Then the job did.
  if (handleSucceeded(ctx)) return finish(draft);
  // 5. Past activeDeadlineSeconds? Fail.
  if (await handleDeadline(ctx)) return finish(draft);
  // 6. Suspended? Delete the pods, keep everything else.
  if (await handleSuspend(ctx)) return finish(draft);
  // 7. Pods of an earlier attempt still around? Remove them first (the new pods reuse their names).
  if (await removeStalePods(ctx)) return finish(draft);
  // 8. A stage failed, vanished, or sits on a dead node? Restart the whole pipeline (or fail).
  if (await handleFailure(ctx)) return finish(draft);
  // 9. Still inside the restart back-off? Wait.
  const wait = restartBackoffLeft(ctx);
  if (wait > 0) {
    draft.requeue(wait);
    return finish(draft);
  }
  // 10. Token Secret, headless Service, checkpoint claim.
  await ensureChildren(ctx);
  // 11. A dataset to prepare first? Prepare it once, on the job's claim; the stages wait for it.
  if (await handleDataPreparation(ctx)) return finish(draft);
  // 12. Create the missing stage pods of this attempt, all together.
  await createMissingPods(ctx);
  // 13. Running? Recovered from a restart?
  updateRunning(ctx);
  // Node leases age without any event: re-check when one would expire.
  for (const pod of ctx.current) {
    const recheck = pod?.spec?.nodeName ? ctx.verdict(pod.spec.nodeName).recheckInMs : undefined;
    if (recheck !== undefined) draft.requeue(recheck);
  }
  return finish(draft);
}

type Validated = ReturnType<typeof validateJob>;

/** An invalid spec fails the job (once per message); a corrected one clears that failure. True when invalid. */
function handleInvalidSpec(draft: Draft, validated: Validated): validated is Extract<Validated, { ok: false }> {
  const failed = getCondition(draft.status.conditions, Conditions.Failed);
  if (!validated.ok) {
    if (failed?.reason !== Reasons.InvalidSpec || failed.message !== validated.message) {
      draft.condition({ type: Conditions.Failed, status: 'True', reason: Reasons.InvalidSpec, message: validated.message });
      draft.event('Warning', Reasons.InvalidSpec, validated.message);
    }
    return true;
  }
  if (failed?.status === 'True' && failed.reason === Reasons.InvalidSpec) {
    draft.condition({ type: Conditions.Failed, status: 'False', reason: Reasons.InvalidSpec, message: 'The spec is valid now' });
  }
  return false;
}

function finish(draft: Draft): Draft {
  draft.status.phase = phaseOf(draft.status.conditions ?? []);
  return draft;
}
