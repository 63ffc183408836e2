// What a failed stage's termination message says, in one line for the job's status. With
// terminationMessagePolicy FallbackToLogsOnError the message is the tail of the container's log,
// and a stage logs JSON lines (trainer/src/stage/run-stage.ts `fail`: level "error", message
// "Stage failed", the reason in `error`). Its last lines are mostly timestamps and fields, and cut
// at the limit they may lose the reason itself: the last error line's reason is what the user needs.

/** At most this many characters of the reason on the status. */
const MAX_REASON_CHARS = 300;

interface LogLine { level?: unknown; message?: unknown; error?: unknown }

function errorLine(line: string): LogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(line) as LogLine;
    return parsed.level === 'error' || parsed.level === 'fatal' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The reason in `text` (a termination message): the newest error log line's, else its last 3 lines. */
export function terminationReason(text: string | undefined): string | undefined {
  const trimmed = text?.trim();
  if (!trimmed) return undefined;
  const lines = trimmed.split('\n');
  const error = lines.map(errorLine).findLast((line) => line !== undefined);
  if (error) {
    const parts = [error.message, error.error].filter((part): part is string => typeof part === 'string' && part.length > 0);
    if (parts.length > 0) return parts.join(': ').slice(0, MAX_REASON_CHARS);
  }
  return lines.slice(-3).join(' | ').slice(0, MAX_REASON_CHARS);
}
