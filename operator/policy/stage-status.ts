// The observed part of the status: per-stage pod, node and state, stages ready, progress from the
// stage pods' /status, the Running condition, and the recovery time after a restart.
import { Conditions, Reasons } from '../constants.ts';
import type { JobContext } from './context.ts';
import { containerStatus, podState } from './pod-state.ts';
import { podName } from '../children/names.ts';
import { checkpointClaimOf } from '../children/pods.ts';

export function observeStages(ctx: JobContext): void {
  const { draft } = ctx;
  const progress = ctx.env.progress(ctx.namespace, ctx.name);
  const fresh = progress && progress.attempt === ctx.attempt ? progress : undefined;
  draft.status.stages = ctx.current.map((pod, stage) => ({
    stage,
    pod: pod?.metadata?.name ?? podName(ctx.name, stage),
    node: pod?.spec?.nodeName,
    state: podState(pod),
    step: fresh?.stageSteps[stage],
  }));
  const ready = ctx.current.filter((p) => ['Ready', 'Succeeded'].includes(podState(p))).length;
  draft.status.stagesReady = `${ready}/${ctx.partition.length}`;
  if (fresh) {
    if (fresh.step !== undefined) draft.status.step = fresh.step;
    if (fresh.totalSteps !== undefined) draft.status.totalSteps = fresh.totalSteps;
    if (fresh.loss !== undefined) draft.status.loss = fresh.loss.toPrecision(5);
    if (fresh.samplesPerSecond !== undefined) draft.status.samplesPerSecond = Math.round(fresh.samplesPerSecond * 10) / 10;
  }
  // Only a checkpoint on the claim survives a restart; one in a pod's own file system is no resume point.
  if (progress?.checkpointStep !== undefined && checkpointClaimOf(ctx.job)) {
    draft.status.lastCheckpoint = { step: progress.checkpointStep, time: progress.checkpointAt };
  }
}

/** Running once every stage is ready; the first time after a restart, that is the recovery. */
export function updateRunning(ctx: JobContext): void {
  const { draft } = ctx;
  const allReady = ctx.current.every((p) => ['Ready', 'Succeeded'].includes(podState(p)));
  if (!allReady) {
    const pull = imagePullProblem(ctx);
    if (pull) {
      // Said once per stage and image, not on every retry of the kubelet (ErrImagePull, ImagePullBackOff, ...).
      const running = draft.status.conditions?.find((c) => c.type === Conditions.Running);
      const message = `${pull.what}: ${pull.why}`;
      if (running?.reason !== Reasons.ImagePullFailed || !running.message.startsWith(`${pull.what}:`)) draft.event('Warning', Reasons.ImagePullFailed, message);
      draft.condition({ type: Conditions.Running, status: 'False', reason: Reasons.ImagePullFailed, message });
      return;
    }
    draft.condition({ type: Conditions.Running, status: 'False', reason: Reasons.StagesStarting, message: `${draft.status.stagesReady ?? '0'} stages ready` });
    return;
  }
  draft.condition({ type: Conditions.Running, status: 'True', reason: Reasons.StagesRunning, message: `All ${ctx.partition.length} stages are ready` });
  const failure = draft.status.lastFailure;
  if (failure && !failure.recoveredAt) {
    failure.recoveredAt = draft.now;
    const seconds = (ctx.env.now - Date.parse(failure.detectedAt)) / 1000;
    draft.observations.recoverySeconds = seconds;
    draft.condition({ type: Conditions.Restarting, status: 'False', reason: Reasons.Recovered, message: `All stages running again after ${failure.reason}` });
    draft.event('Normal', Reasons.Recovered, `All ${ctx.partition.length} stages running again ${seconds.toFixed(1)} s after the failure was detected (attempt ${ctx.attempt})`);
  }
  noteTrainingAgain(ctx);
}

/**
 * After a recovery, the first time every stage of the new attempt reports a step past the checkpoint
 * it resumed from: training again. The stage steps in status come only from the current attempt.
 */
function noteTrainingAgain(ctx: JobContext): void {
  const { draft } = ctx;
  const failure = draft.status.lastFailure;
  if (!failure?.recoveredAt || failure.trainingAt) return;
  const resumedFrom = (failure.stepAtFailure ?? 0) - (failure.lostSteps ?? 0);
  const steps = (draft.status.stages ?? []).map((s) => s.step);
  if (steps.length === 0 || !steps.every((step) => step !== undefined && step > resumedFrom)) return;
  failure.trainingAt = draft.now;
  draft.observations.trainingAgainSeconds = (ctx.env.now - Date.parse(failure.detectedAt)) / 1000;
}

/** Kubelet waiting reasons of a container whose image cannot be pulled (it keeps retrying). */
const IMAGE_PULL_WAITING = new Set(['ErrImagePull', 'ImagePullBackOff']);

/** The first stage whose image cannot be pulled: `stage N (pod …) cannot pull image "…"`, and the kubelet's reason and message. */
function imagePullProblem(ctx: JobContext): { what: string; why: string } | undefined {
  for (const [stage, pod] of ctx.current.entries()) {
    const status = pod && containerStatus(pod);
    const waiting = status?.state?.waiting;
    if (!pod || !status || !waiting?.reason || !IMAGE_PULL_WAITING.has(waiting.reason)) continue;
    const image = pod.spec?.containers.find((c) => c.name === status.name)?.image ?? status.image;
    return { what: `stage ${stage} (pod ${pod.metadata?.name}) cannot pull image "${image}"`, why: `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` };
  }
  return undefined;
}
