// What `npm run setup:tensorflow` prints: one line per step with what it did, sizes and times.
export interface SetupReport {
  /** `name` done: `what` (and how long it took, when `startedAt` is given: a performance.now() value). */
  step(name: string, what: string, startedAt?: number): void;
  note(text: string): void;
}

export function createSetupReport(write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): SetupReport {
  return {
    step: (name, what, startedAt) => write(`  ${name.padEnd(10)} ${what}${startedAt === undefined ? '' : ` in ${formatSeconds(performance.now() - startedAt)}`}`),
    note: (text) => write(`  ${''.padEnd(10)} ${text}`),
  };
}

export function formatSeconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** Decimal units, as `ls -h --si` and pip print them: 207.2 MB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1e3) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(0)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}
