// What the supervisor does after a stage failure: a pure decision, unit-tested on its own.
import { StageExit } from '../contract/index.ts';

export type RestartReason = 'exit' | 'signal' | 'peer-lost' | 'stalled' | 'invalid-job';

export interface FailureReport {
  stage: number;
  reason: RestartReason;
  /** Human-readable cause: exit code, signal, timeout, or the stage's own message. */
  cause: string;
  exitCode?: number;
}

export interface RestartDecision {
  restart: boolean;
  /** Seconds to wait before the next attempt (exponential back-off). */
  delaySeconds: number;
  /** Why not, when restart is false. */
  why?: string;
}

/** Back-off: 0.5 s, 1 s, 2 s, … capped at 15 s. */
export function backoffSeconds(restartsSoFar: number): number {
  return Math.min(15, 0.5 * 2 ** restartsSoFar);
}

export function classifyExit(code: number | null, signal: string | null): RestartReason {
  if (signal) return 'signal';
  if (code === StageExit.InvalidJob) return 'invalid-job';
  if (code === StageExit.PeerLost) return 'peer-lost';
  return 'exit';
}

export function decideRestart(failure: FailureReport, restartsSoFar: number, maxRestarts: number): RestartDecision {
  if (failure.reason === 'invalid-job') {
    return { restart: false, delaySeconds: 0, why: 'the job itself is invalid (exit code 2): restarting cannot help' };
  }
  if (restartsSoFar >= maxRestarts) {
    return { restart: false, delaySeconds: 0, why: `spec.failurePolicy.maxRestarts (${maxRestarts}) is spent` };
  }
  return { restart: true, delaySeconds: backoffSeconds(restartsSoFar) };
}
