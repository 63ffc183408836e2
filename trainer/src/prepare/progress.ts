// The progress line of `pipetrain prepare` on stderr: bytes read, share done, MB/s, documents kept.
// On a terminal it rewrites one line at most 5 times a second; in a log (not a TTY) it prints a
// new line every 10 seconds, so logs stay short.
import type { PrepareProgress } from './prepare.ts';

export interface ProgressWriter {
  update(progress: PrepareProgress): void;
  /** Shows the final figures and ends the line. */
  done(): void;
}

export function formatProgress(progress: PrepareProgress, seconds: number): string {
  const mb = progress.bytesRead / 1e6;
  const share = progress.totalBytes === 0 ? 100 : (100 * progress.bytesRead) / progress.totalBytes;
  const rate = seconds > 0 ? mb / seconds : 0;
  return `prepare: ${mb.toFixed(1)}/${(progress.totalBytes / 1e6).toFixed(1)} MB (${share.toFixed(0)}%), ${rate.toFixed(1)} MB/s, ` +
    `${progress.documentsKept.toLocaleString('en-US')} of ${progress.documents.toLocaleString('en-US')} documents kept, ${(progress.tokens / 1e6).toFixed(1)} M tokens`;
}

export function progressWriter(write: (text: string) => void, terminal: boolean, now: () => number = () => performance.now()): ProgressWriter {
  const started = now();
  const interval = terminal ? 200 : 10_000;
  let last = -Infinity;
  let latest: PrepareProgress | undefined;
  let shownLatest = false;
  const show = (progress: PrepareProgress, at: number) => {
    const line = formatProgress(progress, (at - started) / 1000);
    write(terminal ? `\r${line}\u001b[K` : `${line}\n`);
    shownLatest = true;
  };
  return {
    update(progress) {
      latest = progress;
      shownLatest = false;
      const at = now();
      if (at - last < interval) return;
      last = at;
      show(progress, at);
    },
    done() {
      if (latest && !shownLatest) show(latest, now());
      if (terminal && latest) write('\n');
    },
  };
}
