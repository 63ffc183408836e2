// Runs a helper program (pip, python, node-gyp, npm, strip) and keeps its output for the error
// message, instead of streaming it: the setup prints one line per step, not pages of build logs.
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The program could not be started (ENOENT: not installed). */
  missing: boolean;
}

export interface CommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
}

export function runCommand(command: string, args: string[], options: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => resolve({ code: null, stdout, stderr: stderr || error.message, missing: error.code === 'ENOENT' }));
    child.on('close', (code) => resolve({ code, stdout, stderr, missing: false }));
    child.stdin.on('error', () => {}); // a program that exits early must not crash us with EPIPE
    child.stdin.end(options.input ?? '');
  });
}

/** The last non-empty line of a program's output: usually the one that says what went wrong. */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line.length > 0);
  const line = lines.at(-1) ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
