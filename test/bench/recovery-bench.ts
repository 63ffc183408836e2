// Recovery time: SIGKILL of one stage of a running `pipetrain train` → the first step completed
// after every stage restarted from the last committed checkpoint. Median of several runs.
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { activeStagePids } from '../../trainer/src/stage/process-title.ts';

const CLI = fileURLToPath(new URL('../../trainer/bin/pipetrain.js', import.meta.url));

export interface RecoveryBenchResult {
  runs: number[];
  medianSeconds: number;
}

/** One run: kill stage `victimIndex` right after step `killAtStep`; seconds until the next step line after the resume. */
async function oneRun(jobFile: string, overrides: string[], killAtStep: number, victimIndex: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'pipetrain-recovery-bench-'));
  const job = join(dir, 'job.yaml');
  await copyFile(jobFile, job);
  const args = [CLI, 'train', job, '--log-format', 'text', ...overrides.flatMap((o) => ['--set', o])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let killedAt = 0;
  let resumed = false;
  let recovered = 0;
  await new Promise<void>((resolve) => {
    createInterface({ input: child.stderr }).on('line', (line) => {
      const step = /^step (\d+)\//.exec(line)?.[1];
      if (!killedAt && step !== undefined && Number(step) >= killAtStep) {
        const pids = activeStagePids(child.pid!);
        killedAt = performance.now();
        process.kill(pids[victimIndex % pids.length]!, 'SIGKILL');
      } else if (killedAt && line.includes('Resumed from step')) {
        resumed = true;
      } else if (resumed && step !== undefined && !recovered) {
        recovered = performance.now();
        child.kill('SIGTERM');
      }
    });
    child.on('close', () => resolve());
  });
  await rm(dir, { recursive: true, force: true });
  if (!recovered) throw new Error('the run did not recover');
  return (recovered - killedAt) / 1000;
}

export async function runRecoveryBench(jobFile: string, overrides: string[], runs = 3): Promise<RecoveryBenchResult> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await oneRun(jobFile, overrides, 25 + 10 * i, i));
  return { runs: times, medianSeconds: [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]! };
}

export function formatRecoveryBench(r: RecoveryBenchResult): string {
  return [
    'Recovery: SIGKILL of one stage → first step completed after all stages resumed from the last committed checkpoint',
    `| runs | ${r.runs.map((s) => `${s.toFixed(2)} s`).join(' | ')} |`,
    `|---|${r.runs.map(() => '---').join('|')}|`,
    `| median | ${r.medianSeconds.toFixed(2)} s |`,
  ].join('\n');
}
