// Progress output of `pipetrain train`: a live bar on a terminal, plain lines otherwise, JSON lines
// with --log-format json.

export type LogFormat = 'text' | 'json';

export interface StepProgress {
  step: number;
  totalSteps: number;
  loss?: number;
  samplesPerSecond: number;
  /** Language models: throughput in tokens (samples × window). */
  tokensPerSecond?: number;
  /** When this step was evaluated: the validation loss (a language model's perplexity is its exp). */
  valLoss?: number;
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
      } else if (!options.quiet && (p.step % options.everySteps === 0 || p.step === p.totalSteps || p.valLoss !== undefined)) {
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
    step: (p) => (p.step % everySteps === 0 || p.step === p.totalSteps || p.valLoss !== undefined) && emit('info', 'Completed step', { ...p, ...perplexityOf(p) }),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    close: () => {},
  };
}

export function formatBar(p: StepProgress, width = 24): string {
  const filled = Math.round((p.step / p.totalSteps) * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  const throughput = p.tokensPerSecond === undefined ? `${Math.round(p.samplesPerSecond)} samples/s` : `${Math.round(p.tokensPerSecond)} tokens/s`;
  return `${bar} step ${p.step}/${p.totalSteps}  loss ${formatLoss(p.loss)}${formatValidation(p, '  ')}  ${throughput}  ETA ${formatDuration(p.etaSeconds)}`;
}

export function formatLine(p: StepProgress): string {
  const throughput = p.tokensPerSecond === undefined ? `samples/s ${Math.round(p.samplesPerSecond)}` : `tokens/s ${Math.round(p.tokensPerSecond)}`;
  return `step ${p.step}/${p.totalSteps} loss ${formatLoss(p.loss)}${formatValidation(p, ' ')} ${throughput} eta ${formatDuration(p.etaSeconds)}`;
}

/** " val loss 1.9123 ppl 6.77" for an evaluated step (perplexity only for language models). */
function formatValidation(p: StepProgress, gap: string): string {
  if (p.valLoss === undefined) return '';
  const { perplexity } = perplexityOf(p);
  return `${gap}val loss ${formatLoss(p.valLoss)}${perplexity === undefined ? '' : ` ppl ${perplexity.toFixed(2)}`}`;
}

/** Perplexity = exp(mean validation loss per token), for language models (those report tokens/s). */
export function perplexityOf(p: Pick<StepProgress, 'valLoss' | 'tokensPerSecond'>): { perplexity?: number } {
  return p.valLoss !== undefined && p.tokensPerSecond !== undefined ? { perplexity: Math.exp(p.valLoss) } : {};
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
