// What a stage pod is doing, read from its status: the words the failure policy and the status
// use (Pending, Running, Ready, Succeeded, Failed, Terminating, Missing).
import type * as k8s from '@kubernetes/client-node';
import { CONTAINER_NAME } from '../constants.ts';

export type PodState = 'Missing' | 'Pending' | 'Running' | 'Ready' | 'Succeeded' | 'Failed' | 'Terminating';

export function containerStatus(pod: k8s.V1Pod): k8s.V1ContainerStatus | undefined {
  const statuses = pod.status?.containerStatuses ?? [];
  return statuses.find((s) => s.name === CONTAINER_NAME) ?? statuses[0];
}

export function isPodReady(pod: k8s.V1Pod): boolean {
  return !!pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Exit code of the stage container once it ended. */
export function exitCodeOf(pod: k8s.V1Pod): number | undefined {
  return containerStatus(pod)?.state?.terminated?.exitCode;
}

export function podState(pod: k8s.V1Pod | undefined): PodState {
  if (!pod) return 'Missing';
  const phase = pod.status?.phase;
  const exit = exitCodeOf(pod);
  if (phase === 'Succeeded' || exit === 0) return 'Succeeded';
  if (phase === 'Failed' || (exit !== undefined && exit !== 0)) return 'Failed';
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  if (phase === 'Running') return isPodReady(pod) ? 'Ready' : 'Running';
  return 'Pending';
}

/** True once the stage process has started at least once (running or ended). */
export const hasStarted = (state: PodState): boolean => state === 'Running' || state === 'Ready' || state === 'Succeeded' || state === 'Failed';

/** A Kubernetes time (Date or RFC 3339 string) in ms since the epoch; undefined when absent or invalid. */
export const toMs = (time: unknown): number | undefined => {
  if (time === undefined || time === null) return undefined;
  const ms = time instanceof Date ? time.getTime() : Date.parse(String(time));
  return Number.isFinite(ms) ? ms : undefined;
};

export function finishedAt(pod: k8s.V1Pod): number | undefined {
  return toMs(containerStatus(pod)?.state?.terminated?.finishedAt);
}
