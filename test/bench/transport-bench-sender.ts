// Child process of the transport bench: connects to the parent's receiver and sends `count`
// payloads of `payloadBytes` as fast as backpressure allows, over our Link or over raw TCP.
// Runs only under child_process.fork (IPC); exits when told to or when the parent goes away.
import { connect } from 'node:net';
import { once } from 'node:events';
import { connectLink, FrameKind, type Frame } from '../../trainer/src/transport/index.ts';
import { BENCH_TOKEN, type FromSender, type ToSender } from './transport-bench-protocol.ts';
import { writeLengthPrefixed } from './transport-bench-tcp.ts';

type RunMessage = Extract<ToSender, { type: 'run' }>;

function post(message: FromSender): void {
  process.send?.(message);
}

let goSignal: (() => void) | undefined;
const waitForGo = (): Promise<void> => new Promise((resolve) => (goSignal = resolve));

async function runWs(run: RunMessage): Promise<void> {
  const link = await connectLink({ token: BENCH_TOKEN, maxPayloadBytes: run.payloadBytes, url: `ws://127.0.0.1:${run.port}/`, zeroMask: true, connectTimeoutMs: 10_000 });
  const go = waitForGo();
  post({ type: 'connected' });
  await go;
  const n = run.payloadBytes / 4;
  const data = new Float32Array(n).fill(1.5);
  for (let step = 0; step < run.count; step++) {
    const frame: Frame = { kind: FrameKind.Activation, step, microBatch: 0, dtype: 'float32', shape: [n], data };
    await link.send(frame);
  }
  post({ type: 'sent' });
  await link.closed; // the receiver closes once it has everything
}

async function runTcp(run: RunMessage): Promise<void> {
  const socket = connect({ host: '127.0.0.1', port: run.port, noDelay: true });
  await once(socket, 'connect');
  const go = waitForGo();
  post({ type: 'connected' });
  await go;
  const payload = new Uint8Array(new Float32Array(run.payloadBytes / 4).fill(1.5).buffer);
  for (let i = 0; i < run.count; i++) await writeLengthPrefixed(socket, payload);
  post({ type: 'sent' });
  await once(socket, 'close');
}

process.on('message', (message: ToSender) => {
  if (message.type === 'go') goSignal?.();
  else if (message.type === 'exit') process.disconnect();
  else {
    const running = message.transport === 'ws' ? runWs(message) : runTcp(message);
    running.catch((error: unknown) => post({ type: 'failed', message: (error as Error).message }));
  }
});
// Never outlive the parent.
process.on('disconnect', () => process.exit(0));
