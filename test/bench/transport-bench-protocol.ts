// IPC messages between the transport bench (receiver, parent) and its sender child process.

export type BenchTransport = 'ws' | 'tcp';

/** Parent -> child. */
export type ToSender =
  | { type: 'run'; transport: BenchTransport; port: number; token: string; payloadBytes: number; count: number }
  | { type: 'go' }
  | { type: 'exit' };

/** Child -> parent. */
export type FromSender = { type: 'connected' } | { type: 'sent' } | { type: 'failed'; message: string };

/** The token both sides of the ws run use (loopback only; not a secret). */
export const BENCH_TOKEN = 'transport-bench-token';
