// How one reconcile ends up in the metrics and the log. A Conflict (409) means the cache was behind
// the API server: the retry is routine, so it is counted as `result="conflict"`, apart from errors,
// and logged at info; only real errors raise the error share (dashboard, PipetrainOperatorErrors).
// Events the reconcile queued are logged at the level of their type: a Warning event at warn.
import { errorMessage, isConflict } from './machinery/k8s-errors.ts';
import type { Logger } from './machinery/log.ts';
import type { ReconcileResult } from './metrics.ts';

/** Logs a failed reconcile and returns the result it is counted under. */
export function failedReconcile(log: Logger, error: unknown, retries: number): ReconcileResult {
  if (isConflict(error)) {
    log.info('Update conflicted; retrying with fresh state', { error: errorMessage(error), retries });
    return 'conflict';
  }
  log.error('Reconcile failed', { error: errorMessage(error), retries });
  return 'error';
}

export function logEvent(log: Logger, event: { type: 'Normal' | 'Warning'; reason: string; message: string }): void {
  const fields = { reason: event.reason, type: event.type };
  if (event.type === 'Warning') log.warn(event.message, fields);
  else log.info(event.message, fields);
}
