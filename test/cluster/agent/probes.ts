// Readiness and liveness probes as a kubelet runs them: httpGet, tcpSocket or exec in the pod's network.
import type * as k8s from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import type { PodRun } from './types.ts';

/** What the probes need from the agent. */
export interface ProbeHost {
  later(run: PodRun, ms: number, fn: () => void): void;
  signal(run: PodRun, signal: NodeJS.Signals): void;
  markDirty(run: PodRun): void;
  log(msg: string): void;
}

/**
 * Runs `probe` after its initial delay, then every period, for as long as `run` runs the process
 * it runs now; `onResult` says whether to go on.
 */
function repeatProbe(host: ProbeHost, run: PodRun, probe: k8s.V1Probe, onResult: (ok: boolean) => boolean, first = true): void {
  const delay = first ? (probe.initialDelaySeconds ?? 0) * 1000 : (probe.periodSeconds ?? 10) * 1000;
  const child = run.proc;
  host.later(run, delay, () => {
    if (run.proc !== child || !child || run.terminating) return;
    void probeOnce(run, probe).then((ok) => {
      if (run.proc !== child || run.terminating || run.node.stopped) return;
      if (onResult(ok)) repeatProbe(host, run, probe, onResult, false);
    });
  });
}

/** Readiness: Ready after `successThreshold` successes in a row, not Ready after `failureThreshold` failures. */
export function watchReadiness(host: ProbeHost, run: PodRun, probe: k8s.V1Probe): void {
  let successes = 0;
  let failures = 0;
  repeatProbe(host, run, probe, (ok) => {
    successes = ok ? successes + 1 : 0;
    failures = ok ? 0 : failures + 1;
    const ready = run.ready ? failures < (probe.failureThreshold ?? 3) : successes >= (probe.successThreshold ?? 1);
    if (ready !== run.ready) {
      run.ready = ready;
      host.markDirty(run);
    }
    return true;
  });
}

/** Liveness: after `failureThreshold` failures in a row, stop the process; the restart policy does the rest. */
export function watchLiveness(host: ProbeHost, run: PodRun, probe: k8s.V1Probe): void {
  const child = run.proc;
  let failures = 0;
  repeatProbe(host, run, probe, (ok) => {
    failures = ok ? 0 : failures + 1;
    if (failures < (probe.failureThreshold ?? 3)) return true;
    const grace = probe.terminationGracePeriodSeconds ?? run.pod.spec?.terminationGracePeriodSeconds ?? 30;
    host.log(`pod ${run.key}: liveness probe failed ${failures} times: SIGTERM, grace ${grace}s`);
    host.signal(run, 'SIGTERM');
    host.later(run, grace * 1000, () => {
      if (run.proc === child) host.signal(run, 'SIGKILL');
    });
    return false;
  });
}

function probeOnce(run: PodRun, probe: k8s.V1Probe): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  const container = run.pod.spec?.containers[0];
  const portOf = (port: number | string): number =>
    typeof port === 'number' ? port : (container?.ports?.find((p) => p.name === port)?.containerPort ?? Number(port));
  return new Promise((resolve) => {
    if (probe.httpGet) {
      const req = httpRequest(
        { host: probe.httpGet.host ?? run.ip, port: portOf(probe.httpGet.port as number | string), path: probe.httpGet.path ?? '/', timeout: timeoutMs },
        (res) => {
          res.resume();
          resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    } else if (probe.tcpSocket) {
      const socket = connect(portOf(probe.tcpSocket.port as number | string), run.ip);
      socket.setTimeout(timeoutMs, () => socket.destroy());
      socket.on('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
      socket.on('close', () => resolve(false));
    } else if (probe.exec?.command?.length) {
      const child = spawn('ip', ['netns', 'exec', run.netns, ...probe.exec.command], { stdio: 'ignore', timeout: timeoutMs });
      child.on('close', (code) => resolve(code === 0));
      child.on('error', () => resolve(false));
    } else {
      resolve(true);
    }
  });
}
