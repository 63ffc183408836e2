// Starts stage processes on this machine and relays their messages and logs.
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type StageToSupervisor, type SupervisorToStage } from '../stage/protocol.ts';
import { CONFIG_ENV, TOKEN_ENV, type StageConfig } from '../contract/index.ts';
import { TENSORFLOW_ENV } from '../contract/index.ts';

const STAGE_ENTRY = fileURLToPath(new URL('../stage/stage-main.ts', import.meta.url));
/** Milliseconds a stage gets to exit after SIGTERM before SIGKILL. */
const TERMINATION_GRACE_MS = 5_000;

export interface StageProcess {
  stage: number;
  child: ChildProcess;
  send(message: SupervisorToStage): void;
  /** Resolves with the exit code (or the signal name) when the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export function startStage(config: StageConfig, token: string, handlers: {
  onMessage(message: StageToSupervisor): void;
  onLogLine(stage: number, line: string): void;
}): StageProcess {
  const child = fork(STAGE_ENTRY, [], {
    execArgv: [], // not the parent's (a test runner's flags, say)
    // TensorFlow's thread and oneDNN settings: the pinned values unless the user exported their own
    // (then every stage inherits those, and so does a reference run in the same shell).
    env: { ...TENSORFLOW_ENV, ...process.env, [CONFIG_ENV]: JSON.stringify(config), [TOKEN_ENV]: token },
    serialization: 'advanced', // Float32Array weights travel as structured clones, not JSON
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.on('message', (message: StageToSupervisor) => handlers.onMessage(message));
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => handlers.onLogLine(config.stage, line));
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close' (not 'exit'): it comes after the IPC channel and output streams are drained.
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    stage: config.stage,
    child,
    exited,
    send: (message) => {
      if (child.connected) child.send(message);
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), TERMINATION_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
