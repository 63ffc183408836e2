// Structured logs: capitalised past-tense messages with key/values (kubebuilder practice), as JSON
// lines or readable text. Tests pass a sink to assert on lines instead of stdout.

export type LogFormat = 'json' | 'text';
export type Fields = Record<string, unknown>;

export interface Logger {
  info(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  with(fields: Fields): Logger;
}

export function createLogger(format: LogFormat = 'json', sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`), base: Fields = {}): Logger {
  const write = (level: string, message: string, fields: Fields = {}): void => {
    const all = { ...base, ...fields };
    if (format === 'json') {
      sink(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...all }));
    } else {
      const kv = Object.entries(all).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
      sink(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}${kv ? ` ${kv}` : ''}`);
    }
  };
  return {
    info: (message, fields) => write('info', message, fields),
    error: (message, fields) => write('error', message, fields),
    with: (fields) => createLogger(format, sink, { ...base, ...fields }),
  };
}

