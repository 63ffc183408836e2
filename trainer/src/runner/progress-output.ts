// Progress output of `pipetrain train`: a live bar on a terminal, plain lines otherwise, JSON lines
// with --log-format json.

export type LogFormat = 'text' | 'json';

export interface StepProgress {
  step: number;
  totalSteps: number;
  loss?: number;
  samplesPerSecond: number;
  etaSeconds: number;
}

export interface ProgressReporter {
  step(progress: StepProgress): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Ends the live line so later output starts on a fresh line. */
  close(): void;
}

export function createProgressReporter(options: { format: LogFormat; everySteps: number; stream?: NodeJS.WriteStream; quiet?: boolean }): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  if (options.format === 'json') return jsonReporter(stream, options.everySteps);
  const live = stream.isTTY === true && !options.quiet;
  let lineOpen = false;
  const endLine = () => {
    if (lineOpen) stream.write('\n');
    lineOpen = false;
  };
  return {
    step(p) {
      if (live) {
        stream.write(`\r${formatBar(p)}\x1b[K`);
        lineOpen = true;
      } else if (!options.quiet && (p.step % options.everySteps === 0 || p.step === p.totalSteps)) {
        stream.write(`${formatLine(p)}\n`);
      }
    },
    info(message, fields) {
      if (options.quiet) return;
      endLine();
      stream.write(`${message}${formatFields(fields)}\n`);
    },
    warn(message, fields) {
      endLine();
      stream.write(`warning: ${message}${formatFields(fields)}\n`);
    },
    close: endLine,
  };
}

function jsonReporter(stream: NodeJS.WritableStream, everySteps: number): ProgressReporter {
  const emit = (level: string, message: string, fields?: Record<string, unknown>) =>
    stream.write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }) + '\n');
  return {
    step: (p) => (p.step % everySteps === 0 || p.step === p.totalSteps) && emit('info', 'Completed step', { ...p }),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    close: () => {},
  };
}

export function formatBar(p: StepProgress, width = 24): string {
  const filled = Math.round((p.step / p.totalSteps) * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  return `${bar} step ${p.step}/${p.totalSteps}  loss ${formatLoss(p.loss)}  ${Math.round(p.samplesPerSecond)} samples/s  ETA ${formatDuration(p.etaSeconds)}`;
}

export function formatLine(p: StepProgress): string {
  return `step ${p.step}/${p.totalSteps} loss ${formatLoss(p.loss)} samples/s ${Math.round(p.samplesPerSecond)} eta ${formatDuration(p.etaSeconds)}`;
}

function formatLoss(loss: number | undefined): string {
  return loss === undefined ? '-' : loss.toFixed(4);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function formatFields(fields?: Record<string, unknown>): string {
  if (!fields) return '';
  const parts = Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}
