// Structured stage logs: one JSON object per line on stderr, with job and stage on every line.
// The local runner re-renders them for people; in Kubernetes they go to the log collector as is.

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** Adapter for the transport's log hook. */
  link(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(context: Record<string, unknown>, write: (line: string) => void = (line) => process.stderr.write(line + '\n')): Logger {
  const emit = (level: string, message: string, fields?: Record<string, unknown>) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, message, ...context, ...fields }));
  return {
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    link: (level, message, fields) => emit(level, message, fields),
  };
}
