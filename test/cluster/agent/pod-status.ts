// The pod status a kubelet would post for a run: phase, IPs, conditions and container statuses.
import type * as k8s from '@kubernetes/client-node';
import { nowTime, type PodRun } from './types.ts';

/** `gateway` is the node's address (hostIP). Only the first container runs; others are stand-ins. */
export function podStatus(run: PodRun, gateway: string): k8s.V1PodStatus {
  const now = nowTime();
  const containers = run.pod.spec?.containers ?? [];
  const old = new Map((run.pod.status?.conditions ?? []).map((c) => [c.type, c]));
  const cond = (type: string, ok: boolean, reason?: string): k8s.V1PodCondition => {
    const status = ok ? 'True' : 'False';
    const prev = old.get(type);
    return {
      type,
      status,
      reason: ok ? undefined : reason,
      lastProbeTime: null as unknown as Date,
      lastTransitionTime: (prev?.status === status ? prev.lastTransitionTime : now) as Date,
    };
  };
  const terminal = run.phase === 'Succeeded' || run.phase === 'Failed';
  const ready = run.ready && run.phase === 'Running' && !!run.proc;
  const statuses: k8s.V1ContainerStatus[] = containers.map((c, i) =>
    i === 0
      ? {
          name: c.name,
          image: c.image ?? '',
          imageID: `pipetrain-agent://${c.image ?? ''}`,
          containerID: run.proc?.pid ? `process://${run.proc.pid}` : run.state.terminated?.containerID,
          ready,
          started: !!run.proc,
          restartCount: run.restartCount,
          state: run.state,
          lastState: run.lastState ?? {},
        }
      : {
          // Only the first container runs; the others are reported as running stand-ins.
          name: c.name,
          image: c.image ?? '',
          imageID: `pipetrain-agent://${c.image ?? ''}`,
          ready: !terminal,
          started: !terminal,
          restartCount: 0,
          state: terminal ? { terminated: { exitCode: 0, reason: 'Completed' } } : { running: { startedAt: run.startTime as unknown as Date } },
        },
  );
  return {
    phase: run.phase,
    hostIP: gateway,
    hostIPs: [{ ip: gateway }],
    podIP: run.ip,
    podIPs: [{ ip: run.ip }],
    startTime: run.startTime as unknown as Date,
    conditions: [
      cond('PodReadyToStartContainers', !run.torn),
      cond('Initialized', true),
      cond('ContainersReady', ready, terminal ? 'PodCompleted' : 'ContainersNotReady'),
      cond('Ready', ready, terminal ? 'PodCompleted' : 'ContainersNotReady'),
    ],
    containerStatuses: statuses,
  };
}
