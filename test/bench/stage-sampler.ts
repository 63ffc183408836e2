// Samples the active stage processes of a local run (found by their process title) from /proc:
// peak resident memory and the most threads seen, per stage. Linux only; elsewhere it samples nothing.
import { readFileSync } from 'node:fs';
import { activeStagePids } from '../../trainer/src/stage/process-title.ts';

export interface StageSample {
  /** 0-based stage index, from the title `pipetrain stage 2/4 of job`. */
  stage: number;
  /** Highest VmHWM (peak resident set) seen, bytes. */
  peakRssBytes: number;
  /** Most threads seen at once. */
  threads: number;
}

export interface ProcStatus { peakRssBytes: number; threads: number }

/** VmHWM and Threads from the text of /proc/<pid>/status. */
export function parseProcStatus(text: string): ProcStatus | undefined {
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(text)?.[1];
  const threads = /^Threads:\s+(\d+)$/m.exec(text)?.[1];
  return kib && threads ? { peakRssBytes: Number(kib) * 1024, threads: Number(threads) } : undefined;
}

export function startStageSampler(parentPid: number, intervalMs = 250): { stop(): StageSample[] } {
  const samples = new Map<number, StageSample>();
  const sample = () => {
    for (const pid of activeStagePids(parentPid)) {
      const stage = stageOf(pid);
      const status = readStatus(pid);
      if (stage === undefined || !status) continue;
      const seen = samples.get(stage) ?? { stage, peakRssBytes: 0, threads: 0 };
      samples.set(stage, { stage, peakRssBytes: Math.max(seen.peakRssBytes, status.peakRssBytes), threads: Math.max(seen.threads, status.threads) });
    }
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return [...samples.values()].sort((a, b) => a.stage - b.stage);
    },
  };
}

function stageOf(pid: number): number | undefined {
  try {
    const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const match = /pipetrain stage (\d+)\//.exec(title);
    return match ? Number(match[1]) - 1 : undefined;
  } catch {
    return undefined; // exited meanwhile
  }
}

function readStatus(pid: number): ProcStatus | undefined {
  try {
    return parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}
