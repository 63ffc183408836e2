// `pipetrain prepare` at scale: about 1 GB of generated text (seeded, written into a temporary
// folder outside the checkout and removed afterwards) prepared by the real command in a child
// process, with its peak resident memory (goal ≤ 500 MB) and its MB/s; then the same command again,
// which must be a no-op (the cache). The generator's own memory does not count: it runs here, and
// the command runs alone in its process.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom, writeGeneratedJsonl } from '../support/generated-text.ts';
import { cpuBetween, cpuSnapshot } from './process-stats.ts';

const CLI = new URL('../../trainer/bin/pipetrain.js', import.meta.url).pathname;
const PEAK_RSS = new URL('./peak-rss.ts', import.meta.url).pathname;
const PEAK_RSS_GOAL_MB = 500;

export interface PrepareBenchOptions {
  /** Bytes of generated JSON Lines in all (the default, 1e9, is the 1 GB). */
  bytes: number;
  /** The input is cut into this many files, as a corpus usually is. */
  files: number;
  tokenizer: 'char' | 'gpt2';
}

export interface PrepareRun {
  seconds: number;
  megabytesPerSecond: number;
  peakRssMB: number;
  /** CPU seconds of the command (user + system): on a shared machine, MB per CPU second is the steadier figure. */
  cpuSeconds: number;
  upToDate: boolean;
}

export interface PrepareBenchResult {
  options: PrepareBenchOptions;
  inputBytes: number;
  generateSeconds: number;
  tokens: number;
  documents: number;
  documentsKept: number;
  first: PrepareRun;
  again: PrepareRun;
  /** Share of the machine's CPU time that was busy during the first run (the machine is shared). */
  machineBusy: number;
}

interface CliResult {
  upToDate: boolean;
  seconds: number;
  megabytesPerSecond: number;
  tokens: { train: number; val: number };
  report: { totals: { documents: number; documentsKept: number } };
}

/** The size from PIPETRAIN_BENCH_PREPARE_MB (to measure less on a slow machine), else 1 GB. */
export function prepareBenchOptions(env: NodeJS.ProcessEnv = process.env): PrepareBenchOptions {
  const mb = Number(env.PIPETRAIN_BENCH_PREPARE_MB ?? 1000);
  if (!Number.isFinite(mb) || mb <= 0) throw new Error(`PIPETRAIN_BENCH_PREPARE_MB=${env.PIPETRAIN_BENCH_PREPARE_MB}: expected a positive number of MB`);
  const tokenizer = env.PIPETRAIN_BENCH_PREPARE_TOKENIZER ?? 'char';
  if (tokenizer !== 'char' && tokenizer !== 'gpt2') throw new Error(`PIPETRAIN_BENCH_PREPARE_TOKENIZER=${tokenizer}: expected char or gpt2`);
  return { bytes: mb * 1e6, files: Math.max(1, Math.round(mb / 64)), tokenizer };
}

export async function runPrepareBench(options: PrepareBenchOptions = prepareBenchOptions()): Promise<PrepareBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), 'pipetrain-prepare-bench-'));
  try {
    const t0 = performance.now();
    let inputBytes = 0;
    // One stream for all files, so no two documents are equal: every one is kept, the worst case for memory.
    const random = seededRandom(1);
    for (let i = 0; i < options.files; i++) {
      inputBytes += await writeGeneratedJsonl(join(dir, `part-${String(i).padStart(3, '0')}.jsonl`), options.bytes / options.files, { random });
    }
    const generateSeconds = (performance.now() - t0) / 1000;
    const args = ['prepare', '--input', join(dir, '*.jsonl'), '--tokenizer', options.tokenizer, '--out', join(dir, 'tokens'), '--json'];
    const before = cpuSnapshot({});
    const first = await runCli(args, dir);
    const machineBusy = cpuBetween(before, cpuSnapshot({})).machineBusy;
    const again = await runCli(args, dir);
    if (first.result.upToDate || !again.result.upToDate) throw new Error(`the cache: first run upToDate=${first.result.upToDate}, second run upToDate=${again.result.upToDate}`);
    return {
      options, inputBytes, generateSeconds, machineBusy,
      tokens: first.result.tokens.train + first.result.tokens.val,
      documents: first.result.report.totals.documents,
      documentsKept: first.result.report.totals.documentsKept,
      first: first.run,
      again: again.run,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One `pipetrain prepare ... --json` in its own process; its progress lines go to our stderr. */
async function runCli(args: string[], dir: string): Promise<{ result: CliResult; run: PrepareRun }> {
  const rssFile = join(dir, `peak-rss-${process.hrtime.bigint()}`);
  const child = spawn(process.execPath, ['--import', PEAK_RSS, CLI, ...args], { env: { ...process.env, PIPETRAIN_PEAK_RSS_FILE: rssFile }, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`pipetrain ${args.join(' ')}: exit code ${code}`);
  const result = JSON.parse(stdout) as CliResult;
  const usage = JSON.parse(await readFile(rssFile, 'utf8')) as { maxRssKiB: number; cpuMicroseconds: number };
  const peakRssMB = (usage.maxRssKiB * 1024) / 1e6;
  return { result, run: { seconds: result.seconds, megabytesPerSecond: result.megabytesPerSecond, peakRssMB, cpuSeconds: usage.cpuMicroseconds / 1e6, upToDate: result.upToDate } };
}

function row(name: string, run: PrepareRun, megabytesPerSecond: number): string {
  return `| ${name} | ${run.seconds.toFixed(1)} s | ${megabytesPerSecond.toFixed(1)} | ${run.cpuSeconds.toFixed(1)} s | ${(megabytesPerSecond * run.seconds / Math.max(run.cpuSeconds, 1e-9)).toFixed(1)} | ${run.peakRssMB.toFixed(0)} MB |`;
}

export function formatPrepareBench(r: PrepareBenchResult): string {
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
  const goal = r.first.peakRssMB <= PEAK_RSS_GOAL_MB ? 'met' : 'not met';
  return [
    `${mb(r.inputBytes)} of generated JSON Lines in ${r.options.files} file(s) (${r.documents.toLocaleString('en-US')} documents, ${r.documentsKept.toLocaleString('en-US')} kept; ` +
      `${(r.tokens / 1e6).toFixed(0)} M ${r.options.tokenizer} tokens), generated in ${r.generateSeconds.toFixed(0)} s; machine ${(100 * r.machineBusy).toFixed(0)} % busy during the first run`,
    '',
    '| run | time | MB/s | CPU time | MB per CPU second | peak RSS |',
    '|---|---|---|---|---|---|',
    row('first (prepares)', r.first, r.first.megabytesPerSecond),
    row('again (up to date: hashes the inputs)', r.again, r.inputBytes / 1e6 / Math.max(r.again.seconds, 1e-9)),
    '',
    `Peak RSS goal ≤ ${PEAK_RSS_GOAL_MB} MB: ${goal}.`,
  ].join('\n');
}
