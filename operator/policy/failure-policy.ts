// Gang failure detection: is the current attempt broken, and why? One stage failing breaks the whole
// pipeline, so the answer is a single Failure (the most telling one) or none. Pure: pods, node
// verdicts and the time in, a decision out.
import type * as k8s from '@kubernetes/client-node';
import { StageExit } from '../../trainer/src/contract/index.ts';
import { Reasons, type RESTART_REASONS } from '../constants.ts';
import type { NodeVerdict } from './node-health.ts';
import { containerStatus, exitCodeOf, finishedAt, hasStarted, podState } from './pod-state.ts';

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
/** Shell exit codes: command not executable / not found: the image cannot run the stage. */
const PERMANENT_EXIT = new Set<number>([StageExit.InvalidJob, 126, 127]);

// Lower = more telling. A neighbour's "peer lost" is a symptom; the dead peer is the cause.
const RANK: Record<'permanent' | (typeof RESTART_REASONS)[number], number> = {
  permanent: 0,
  [Reasons.NodeGone]: 1,
  [Reasons.NodeNotReady]: 1,
  [Reasons.NodeLeaseExpired]: 1,
  [Reasons.StageFailed]: 2,
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
    if (exitCode !== undefined && PERMANENT_EXIT.has(exitCode)) {
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
  const message = containerStatus(pod)?.state?.terminated?.message?.trim();
  return message ? `: ${message.split('\n').slice(-3).join(' | ').slice(0, 300)}` : '';
}

/** Back-off before the n-th restart (n >= 1): 1 s, 2 s, 4 s ... capped at 60 s. */
export function restartDelayMs(restarts: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, restarts - 1));
}
