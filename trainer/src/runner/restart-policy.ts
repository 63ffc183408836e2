// What the supervisor does after a stage failure: a pure decision, unit-tested on its own. The
// budget, back-off, permanent exit codes and reason names are the operator's too
// (trainer/src/contract/restart-policy.ts).
import { isPermanentExit, restartDelaySeconds, RestartReasons, StageExit, type RestartReason } from '../contract/index.ts';

export interface FailureReport {
  stage: number;
  /** Under which reason the restart is counted; undefined for a permanent failure (never restarted). */
  reason: RestartReason | 'permanent';
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

/** A signal or an unexpected exit is StageFailed, as the operator counts a killed pod (exit 137). */
export function classifyExit(code: number | null, signal: string | null): FailureReport['reason'] {
  if (signal) return RestartReasons.StageFailed;
  if (isPermanentExit(code)) return 'permanent';
  if (code === StageExit.PeerLost) return RestartReasons.PeerLost;
  return RestartReasons.StageFailed;
}

export function decideRestart(failure: FailureReport, restartsSoFar: number, maxRestarts: number): RestartDecision {
  if (failure.reason === 'permanent') {
    const why = failure.exitCode === StageExit.InvalidJob ? 'the job itself is invalid (exit code 2)' : `the stage command cannot run (exit code ${failure.exitCode ?? '?'})`;
    return { restart: false, delaySeconds: 0, why: `${why}: restarting cannot help` };
  }
  if (restartsSoFar >= maxRestarts) {
    return { restart: false, delaySeconds: 0, why: `spec.failurePolicy.maxRestarts (${maxRestarts}) is spent` };
  }
  return { restart: true, delaySeconds: restartDelaySeconds(restartsSoFar + 1) };
}
