// Transport bench: one-way throughput of our framed Link (client -> server, zero mask, encodeFrame /
// decodeFrame, Float32Array payload) against a raw TCP socket with a 4-byte length prefix, measured
// in the same run on loopback. The sender is a forked child so both ends get their own core, as
// real stages do. Each measurement runs from the 'go' signal to the receipt of the last payload.
//   Usage: node test/bench/transport-bench.ts
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { FrameKind, listenLink } from '../../trainer/src/transport/index.ts';
import { BENCH_TOKEN, type BenchTransport, type FromSender, type ToSender } from './transport-bench-protocol.ts';
import { readLengthPrefixed } from './transport-bench-tcp.ts';

export interface TransportBenchOptions {
  /** Payload sizes in bytes (multiples of 4). Default 64 KiB, 1 MiB, 16 MiB. */
  sizes?: number[];
  /** Bytes sent per measurement; count = max(2, ceil(total / size)). Default 256 MiB. */
  totalBytesPerSize?: number;
  /** Measurements per size and transport; the median is reported. Default 3. */
  repetitions?: number;
  /** Upper bound for one measurement, ms; the bench fails instead of hanging. Default 60000. */
  runTimeoutMs?: number;
}

export interface TransportBenchResult {
  payloadBytes: number;
  /** Median one-way throughput of the Link, bytes of payload per second. */
  wsBytesPerSecond: number;
  /** Median one-way throughput of raw TCP, bytes of payload per second. */
  tcpBytesPerSecond: number;
  /** ws / tcp. */
  ratio: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** The sender child and a way to wait for its next message. */
class Sender {
  private readonly inbox: FromSender[] = [];
  private wake: (() => void) | undefined;
  private exited = false;
  readonly child: ChildProcess;

  constructor(child: ChildProcess) {
    this.child = child;
    child.on('message', (message: FromSender) => {
      this.inbox.push(message);
      this.wake?.();
    });
    child.on('exit', () => {
      this.exited = true;
      this.wake?.();
    });
  }
  send(message: ToSender): void {
    this.child.send(message);
  }
  async next(type: FromSender['type'], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = this.inbox.shift();
      if (message?.type === 'failed') throw new Error(`Bench sender failed: ${message.message}`);
      if (message?.type === type) return;
      if (message) continue;
      if (this.exited) throw new Error('Bench sender exited early.');
      if (Date.now() > deadline) throw new Error(`Bench sender sent no "${type}" within ${timeoutMs} ms.`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.wake = () => (clearTimeout(timer), resolve());
      });
    }
  }
}

/** One measurement over the Link: payload bytes per second. */
async function measureWs(sender: Sender, payloadBytes: number, count: number, timeoutMs: number): Promise<number> {
  const server = await listenLink({ token: BENCH_TOKEN, maxPayloadBytes: payloadBytes, maxQueuedFrames: count + 1 });
  try {
    sender.send({ type: 'run', transport: 'ws', port: server.port, token: BENCH_TOKEN, payloadBytes, count });
    const link = await server.accept(timeoutMs);
    await sender.next('connected', timeoutMs);
    // One deadline for the whole run, as the TCP run has, rather than a timer per receive (the
    // trainer receives without a timeout). When it fires, closing the link fails the pending receive.
    const timer = setTimeout(() => void link.close(`ws run did not finish within ${timeoutMs} ms`), timeoutMs);
    const started = performance.now();
    sender.send({ type: 'go' });
    try {
      for (let step = 0; step < count; step++) await link.receive(FrameKind.Activation, step, 0);
    } finally {
      clearTimeout(timer);
    }
    const seconds = (performance.now() - started) / 1000;
    await link.close('bench run finished');
    return (payloadBytes * count) / seconds;
  } finally {
    await server.close();
  }
}

/** One measurement over raw TCP with a 4-byte length prefix: payload bytes per second. */
async function measureTcp(sender: Sender, payloadBytes: number, count: number, timeoutMs: number): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const port = (server.address() as AddressInfo).port;
    sender.send({ type: 'run', transport: 'tcp', port, token: '', payloadBytes, count });
    const [socket] = await accepted;
    await sender.next('connected', timeoutMs);
    let received = 0;
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`TCP run did not finish within ${timeoutMs} ms.`)), timeoutMs);
      readLengthPrefixed(socket, (message) => {
        if (message.length !== payloadBytes) reject(new Error(`TCP message of ${message.length} bytes.`));
        if (++received === count) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const started = performance.now();
    sender.send({ type: 'go' });
    await done;
    const seconds = (performance.now() - started) / 1000;
    socket.destroy();
    return (payloadBytes * count) / seconds;
  } finally {
    server.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export async function runTransportBench(options: TransportBenchOptions = {}): Promise<TransportBenchResult[]> {
  const sizes = options.sizes ?? [64 * KiB, 1 * MiB, 16 * MiB];
  const total = options.totalBytesPerSize ?? 256 * MiB;
  const repetitions = options.repetitions ?? 3;
  const timeoutMs = options.runTimeoutMs ?? 60_000;
  for (const size of sizes) {
    if (!Number.isInteger(size) || size <= 0 || size % 4 !== 0) throw new TypeError(`Bench sizes must be positive multiples of 4, got ${size}.`);
  }
  const child = fork(new URL('./transport-bench-sender.ts', import.meta.url), [], { stdio: 'inherit' });
  const sender = new Sender(child);
  try {
    const results: TransportBenchResult[] = [];
    for (const payloadBytes of sizes) {
      const count = Math.max(2, Math.ceil(total / payloadBytes));
      const samples: Record<BenchTransport, number[]> = { ws: [], tcp: [] };
      // Alternate transports so drifting machine load hits both alike.
      for (let rep = 0; rep < repetitions; rep++) {
        samples.ws.push(await measureWs(sender, payloadBytes, count, timeoutMs));
        samples.tcp.push(await measureTcp(sender, payloadBytes, count, timeoutMs));
      }
      const ws = median(samples.ws);
      const tcp = median(samples.tcp);
      results.push({ payloadBytes, wsBytesPerSecond: ws, tcpBytesPerSecond: tcp, ratio: ws / tcp });
    }
    return results;
  } finally {
    if (child.connected) sender.send({ type: 'exit' });
    const exited = child.exitCode !== null ? Promise.resolve() : once(child, 'exit');
    const timer = setTimeout(() => child.kill(), 5000);
    await exited;
    clearTimeout(timer);
  }
}

function formatBytes(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}

/** A plain-text table, throughput in GB/s (10^9 bytes per second). */
export function formatTransportBench(results: TransportBenchResult[]): string {
  const rows = [['payload', 'ws Link GB/s', 'raw TCP GB/s', 'ws/tcp']];
  for (const r of results) {
    rows.push([formatBytes(r.payloadBytes), (r.wsBytesPerSecond / 1e9).toFixed(2), (r.tcpBytesPerSecond / 1e9).toFixed(2), r.ratio.toFixed(2)]);
  }
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows.map((row) => row.map((cell, col) => cell.padStart(widths[col]!)).join('  ')).join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await runTransportBench();
  console.log(formatTransportBench(results));
}
