// Runs `pipetrain` as a child process for end-to-end tests, with hooks on its progress lines.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../../trainer/bin/pipetrain.js', import.meta.url));

export interface CliResult { code: number | null; stdout: string; stderr: string }

export interface Summary {
  status: string; steps: number; loss: number; valAccuracy: number; samplesPerSecond: number; weightsSha256: string;
  partition: number[]; restarts: number; lostSteps: number; resumedFrom: number; error?: string;
}

/** Runs the CLI; `onLine` sees every stderr line (progress, warnings) with the CLI's pid. */
export function runCli(args: string[], onLine?: (line: string, pid: number) => void, cwd?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderr += line + '\n';
      onLine?.(line, child.pid!);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function parseSummary(result: CliResult): Summary {
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as Summary;
  } catch {
    throw new Error(`no JSON summary (exit ${result.code}); stderr:\n${result.stderr}`);
  }
}

/** The step number of a plain progress line (`step 7/30 loss …`), or undefined. */
export function progressStep(line: string): number | undefined {
  const match = /^step (\d+)\/\d+ /.exec(line);
  return match ? Number(match[1]) : undefined;
}
