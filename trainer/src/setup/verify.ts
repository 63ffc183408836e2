// Step 5: loads the linked package in a fresh process (as a stage would) and runs one op, so the
// setup ends with proof that training can use it, or with the reason it cannot.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describeLoadError } from '../tf/load-error.ts';
import type { NativeBackendChoice } from '../tf/native-layout.ts';
import { SetupError } from './setup-error.ts';
import type { SetupReport } from './setup-report.ts';

const CHILD = fileURLToPath(new URL('./verify-child.ts', import.meta.url));

interface ChildAnswer { ok: boolean; backend?: string; tensorflowVersion?: string; loadMs?: number; error?: string }

export async function verifyLoad(choice: NativeBackendChoice, packageDir: string, report: SetupReport): Promise<void> {
  const started = performance.now();
  const answer = await new Promise<ChildAnswer>((resolve) => {
    // fork keeps our execArgv, so the child has the same TypeScript loader as this process.
    const child = fork(CHILD, [packageDir], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(line) as ChildAnswer);
      } catch {
        resolve({ ok: false, error: stderr.trim() || `the check process exited with ${code}` });
      }
    });
  });
  if (!answer.ok) {
    const problem = describeLoadError(choice, new Error(answer.error ?? 'a matrix product gave a wrong result'));
    throw new SetupError(`the built binding does not load: ${problem.reason}`, 'run the setup again with --force; if it fails the same way, report it with this line');
  }
  report.step('check', `a fresh process loaded it: backend ${answer.backend}, TensorFlow ${answer.tensorflowVersion}, load ${((answer.loadMs ?? 0) / 1000).toFixed(2)} s, matMul correct`, started);
}
