// The one restart policy of both runners: the operator (operator/policy/restart.ts) and the local
// supervisor (trainer/src/runner/supervisor.ts). A job without failurePolicy gets the same budget,
// the same back-off and the same permanent exit codes from either; the schema's default for
// spec.failurePolicy.maxRestarts is DEFAULT_MAX_RESTARTS, so `kubectl explain` and docs/api.md show it.
import { StageExit } from './exit-codes.ts';

/** Restarts from the last checkpoint before the job fails, when spec.failurePolicy does not say. */
export const DEFAULT_MAX_RESTARTS = 3;

/** Back-off of the n-th restart: 1 s, 2 s, 4 s, ... at most 60 s (seconds). */
export const RESTART_BACKOFF = { firstSeconds: 1, maxSeconds: 60 } as const;

/**
 * Exit codes no retry can fix: the job itself is wrong (2), or the command cannot run: not
 * executable (126), not found (127), as a shell reports them.
 */
export const PERMANENT_EXIT_CODES: ReadonlySet<number> = new Set([StageExit.InvalidJob, 126, 127]);

/** Reasons a restart is counted under (`pipetrain_restarts_total{reason}`), by both runners. */
export const RestartReasons = {
  /** A stage exited non-zero or was killed by a signal. */
  StageFailed: 'StageFailed',
  /** A stage froze: no heartbeat within the stall timeout (local supervisor). */
  StageStalled: 'StageStalled',
  /** A stage exited with code 3: a neighbour's link broke or went silent. */
  PeerLost: 'PeerLost',
  PodDeleted: 'PodDeleted',
  PodEvicted: 'PodEvicted',
  NodeNotReady: 'NodeNotReady',
  NodeLeaseExpired: 'NodeLeaseExpired',
  NodeGone: 'NodeGone',
} as const;
export type RestartReason = (typeof RestartReasons)[keyof typeof RestartReasons];
export const RESTART_REASONS: readonly RestartReason[] = Object.values(RestartReasons);

/** Buckets of the failure-detection and recovery histograms: 100 ms ... 10 min, in seconds. */
export const RECOVERY_BUCKETS: readonly number[] = [0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300, 600];

export function isPermanentExit(code: number | null | undefined): boolean {
  return code !== null && code !== undefined && PERMANENT_EXIT_CODES.has(code);
}

/** The restart budget of a job; a stored object may predate the schema default. */
export function maxRestartsOf(failurePolicy: { maxRestarts?: number } | undefined): number {
  return failurePolicy?.maxRestarts ?? DEFAULT_MAX_RESTARTS;
}

/** Seconds to wait before the `restart`-th restart (1 for the first). */
export function restartDelaySeconds(restart: number): number {
  return Math.min(RESTART_BACKOFF.maxSeconds, RESTART_BACKOFF.firstSeconds * 2 ** Math.max(0, restart - 1));
}
