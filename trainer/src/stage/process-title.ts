// The process title of a stage: `ps` shows which stage of which job a process is, and whether it is
// the supervisor's booted standby. Tests and benchmarks find the active stages by it.
import { execFileSync } from 'node:child_process';

export function stageTitle(stage: number, stages: number, job: string, standby = false): string {
  return `pipetrain stage ${stage + 1}/${stages} of ${job}${standby ? ' (standby)' : ''}`;
}

const ACTIVE = /^(\d+) pipetrain stage \d+\/\d+ of \S+$/;

/** PIDs of the active (not standby, not still booting) stage processes started by `parentPid`. */
export function activeStagePids(parentPid: number): number[] {
  let listing: string;
  try {
    listing = execFileSync('pgrep', ['-a', '-P', String(parentPid)], { encoding: 'utf8' });
  } catch {
    return []; // pgrep exits 1 when there is no child
  }
  return listing.trim().split('\n').flatMap((line) => {
    const pid = ACTIVE.exec(line)?.[1];
    return pid ? [Number(pid)] : [];
  });
}
