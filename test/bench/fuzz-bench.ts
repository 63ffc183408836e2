// `npm run bench -- fuzz`: the link fuzzer at 100k cases (npm test runs 5k), lying lengths at 10k,
// job files through validate at 20k (npm test: 1000), damaged checkpoint stores at 2000 (npm test: 100).
// Prints the seeds; a failing case replays with PIPETRAIN_FUZZ_SEED=<seed>.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCheckpointFuzz } from '../support/fuzz/checkpoint-fuzz.ts';
import { runJobFuzz } from '../support/fuzz/job-fuzz.ts';
import { runLinkFuzz, runLyingLengths } from '../support/fuzz/link-fuzz.ts';
import { fuzzSeed } from '../support/fuzz/rng.ts';

export interface FuzzBenchRow {
  what: string;
  seed: number;
  cases: number;
  seconds: number;
  failures: string[];
  detail: string;
}

export async function runFuzzBench(): Promise<FuzzBenchRow[]> {
  const rows: FuzzBenchRow[] = [];
  const linkSeed = fuzzSeed();
  const link = await runLinkFuzz({ seed: linkSeed, cases: 100_000 });
  const codes = Object.entries(link.byCloseCode).map(([code, n]) => `${code}: ${n}`).join(', ');
  rows.push({
    what: 'link frames and ws traffic', seed: linkSeed, cases: link.cases, seconds: link.seconds, failures: link.failures,
    detail: `${link.connections} connections; closes ${codes}; arrayBuffers peak +${(link.peakArrayBufferGrowth / 2 ** 20).toFixed(1)} MiB`,
  });
  const lyingSeed = fuzzSeed();
  const started = performance.now();
  const lying = await runLyingLengths(lyingSeed, 10_000);
  rows.push({
    what: 'lying lengths (ws header, frame dims)', seed: lyingSeed, cases: lying.cases, seconds: (performance.now() - started) / 1000, failures: lying.failures,
    detail: `claimed ${lying.claimedBytes.toExponential(1)} bytes in all; arrayBuffers peak +${(lying.peakArrayBufferGrowth / 1024).toFixed(0)} KiB`,
  });
  const jobSeed = fuzzSeed();
  const dir = mkdtempSync(join(tmpdir(), 'pipetrain-job-fuzz-bench-'));
  try {
    const jobs = await runJobFuzz({ seed: jobSeed, cases: 20_000, dir });
    rows.push({ what: 'job files through pipetrain validate', seed: jobSeed, cases: jobs.cases, seconds: jobs.seconds, failures: jobs.failures, detail: `${jobs.valid} valid, ${jobs.invalid} invalid` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const checkpointSeed = fuzzSeed();
  const checkpoints = await runCheckpointFuzz(checkpointSeed, 2000);
  const outcomes = Object.entries(checkpoints.outcomes).map(([outcome, n]) => `${outcome}: ${n}`).join(', ');
  rows.push({ what: 'damaged checkpoint stores (reader)', seed: checkpointSeed, cases: checkpoints.cases, seconds: checkpoints.seconds, failures: checkpoints.failures, detail: outcomes });
  return rows;
}

export function formatFuzzBench(rows: FuzzBenchRow[]): string {
  const lines = ['| fuzzer | seed | cases | failures | seconds | detail |', '|---|---|---|---|---|---|'];
  for (const row of rows) lines.push(`| ${row.what} | ${row.seed} | ${row.cases} | ${row.failures.length} | ${row.seconds.toFixed(1)} | ${row.detail} |`);
  const failures = rows.flatMap((row) => row.failures);
  if (failures.length > 0) lines.push('', 'Failures:', ...failures.map((f) => `- ${f}`));
  return lines.join('\n');
}
