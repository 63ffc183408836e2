// One pod's run on a node: how it starts out, the GPUs it takes, its timers and signals, and the
// container state a kubelet reports when its process exits.
import type * as k8s from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { type ClusterState, hostVethName, netnsName, podDir } from '../state.ts';
import { NODE_CAPACITY, nowTime, type NodeRuntime, type PodRun } from './types.ts';

/** A fresh run of `pod` on `node` in address slot `index` (1..253 of the cluster's /24). */
export function newPodRun(state: ClusterState, pod: k8s.V1Pod, node: NodeRuntime, index: number): PodRun {
  const ns = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '';
  const uid = pod.metadata?.uid ?? '';
  return {
    key: `${ns}/${name}`,
    uid,
    pod,
    node,
    index,
    ip: `${state.subnet}.${index + 1}`,
    netns: netnsName(state.runId, index),
    hostVeth: hostVethName(state.runId, index),
    dir: podDir(state.stateDir, ns, name, uid),
    gpus: [],
    phase: 'Pending',
    state: { waiting: { reason: 'ContainerCreating' } },
    restartCount: 0,
    ready: false,
    started: false,
    runStartedMs: 0,
    terminating: false,
    torn: false,
    timers: new Set(),
    patching: false,
    dirty: false,
  };
}

/** Takes the GPUs the first container asks for from what its node has free. */
export function allocateGpus(run: PodRun): void {
  const container = run.pod.spec?.containers[0];
  const wanted = Number(container?.resources?.limits?.['nvidia.com/gpu'] ?? container?.resources?.requests?.['nvidia.com/gpu'] ?? 0);
  for (let g = 0; run.gpus.length < wanted && g < Number(NODE_CAPACITY['nvidia.com/gpu']); g++) {
    if (!run.node.gpusInUse.has(g)) {
      run.node.gpusInUse.add(g);
      run.gpus.push(g);
    }
  }
}

/** Runs `fn` after `ms` unless the run's timers are cleared first (teardown, node stop). */
export function later(run: PodRun, ms: number, fn: () => void): void {
  const timer = setTimeout(() => {
    run.timers.delete(timer);
    fn();
  }, ms);
  run.timers.add(timer);
}

/** Signals the run's whole process group (the container's process and its children). */
export function signalRun(run: PodRun, signal: NodeJS.Signals): void {
  const pid = run.proc?.pid;
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1, SIGQUIT: 3, SIGABRT: 6, SIGSEGV: 11 };

/** The terminated state of a process that ran since `startedAt`: exit code 128+n for signal n. */
export function terminatedState(pid: number | undefined, code: number | null, signal: NodeJS.Signals | null, startedAt: Date | undefined): k8s.V1ContainerState {
  const exitCode = code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 0) : 0);
  return {
    terminated: {
      exitCode,
      reason: exitCode === 0 ? 'Completed' : 'Error',
      signal: signal ? SIGNAL_NUMBERS[signal] : undefined,
      startedAt: startedAt as Date,
      finishedAt: nowTime() as unknown as Date,
      containerID: `process://${pid}`,
    },
  };
}

/** The kubelet's limits for a termination message taken from the log: 80 lines, 2 KiB. */
const FALLBACK_LOG_LINES = 80;
const FALLBACK_LOG_BYTES = 2048;

/**
 * `terminationMessagePolicy: FallbackToLogsOnError`, as a kubelet applies it: a container that
 * failed without a termination message file gets the tail of its log as the message.
 */
export function fallbackTerminationMessage(container: k8s.V1Container | undefined, exitCode: number, logPath: string): string | undefined {
  if (exitCode === 0 || container?.terminationMessagePolicy !== 'FallbackToLogsOnError') return undefined;
  let text: string;
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.replace(/\n$/, '').split('\n').slice(-FALLBACK_LOG_LINES).join('\n');
  const bytes = Buffer.from(lines);
  const tail = bytes.length > FALLBACK_LOG_BYTES ? bytes.subarray(bytes.length - FALLBACK_LOG_BYTES).toString('utf8') : lines;
  return tail || undefined;
}
