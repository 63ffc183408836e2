// The stage's end of the IPC channel to the local supervisor (absent in a pod: every call is then
// a no-op). Messages are kept from the moment the process starts: one may arrive before the stage
// waits for it (a `start` sent right after fork, a `connect` sent as soon as the downstream stage
// listens), and an IPC message without a listener would be lost.
import { StageExit } from '../contract/index.ts';
import type { StageToSupervisor, SupervisorToStage } from './protocol.ts';

type MessageOf<T extends SupervisorToStage['type']> = Extract<SupervisorToStage, { type: T }>;

const early = new Map<SupervisorToStage['type'], SupervisorToStage>();
const waiters = new Map<SupervisorToStage['type'], (message: SupervisorToStage) => void>();

/** Starts listening; a `shutdown` message exits at once. */
export function listenToSupervisor(): void {
  process.on('message', (message: SupervisorToStage) => {
    if (message.type === 'shutdown') process.exit(StageExit.Terminated);
    const waiter = waiters.get(message.type);
    if (waiter) waiter(message);
    else early.set(message.type, message);
  });
}

export function supervisorMessage<T extends SupervisorToStage['type']>(type: T): Promise<MessageOf<T>> {
  const kept = early.get(type);
  if (kept) return Promise.resolve(kept as MessageOf<T>);
  return new Promise((resolve) => waiters.set(type, resolve as (message: SupervisorToStage) => void));
}

/** Resolves once the message is handed to the IPC channel, so exiting right after loses nothing. */
export function report(message: StageToSupervisor): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/** Lets the supervisor tell a frozen stage from a busy one: a tick every `intervalMs` from the event loop. */
export function startSupervisorHeartbeat(stage: number, intervalMs: number): void {
  if (!process.send) return;
  setInterval(() => void report({ type: 'heartbeat', stage }), intervalMs).unref();
}
