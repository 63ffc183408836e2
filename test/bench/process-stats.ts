// What a benchmark reads of its processes from /proc: resident memory and CPU seconds, and how busy
// the whole machine was meanwhile (the machine is shared: a busy one explains a slow figure).
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** CPU seconds per named process over a window, and the share of the machine's CPU time that was busy. */
export interface CpuUse { seconds: Record<string, number>; machineBusy: number; cores: number }

/** VmRSS of a process in MB (10^6 bytes); 0 once it is gone. */
export function rssMB(pid: number): number {
  try {
    const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib ? (Number(kib) * 1024) / 1e6 : 0;
  } catch {
    return 0;
  }
}

export interface CpuSnapshot { processes: Record<string, number>; busy: number; total: number }

/** user + system CPU seconds of one process (0 once it is gone); /proc counts in ticks of 1/100 s. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is the state, field 3 of stat(5)
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

export function cpuSnapshot(pids: Record<string, number>): CpuSnapshot {
  const ticks = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0); // idle + iowait
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0); // without guest time, already in user
  return { processes: Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)])), busy: total - idle, total };
}

export function cpuBetween(from: CpuSnapshot, to: CpuSnapshot): CpuUse {
  const seconds = Object.fromEntries(Object.keys(from.processes).map((name) => [name, (to.processes[name] ?? 0) - (from.processes[name] ?? 0)]));
  return { seconds, machineBusy: (to.busy - from.busy) / Math.max(1, to.total - from.total), cores: cpus().length };
}
