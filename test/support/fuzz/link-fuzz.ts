// Runs link fuzz cases against a live stage link server (trainer/src/transport on loopback):
// connections with the token carry random and mutated frames, cut into TCP writes at random;
// connections without it are refused. Checks every outcome, and samples memory all along.
import { frameHeaderBytes, DEFAULT_MAX_RANK, type Frame } from '../../../trainer/src/transport/frame.ts';
import { listenLink, type LinkServer } from '../../../trainer/src/transport/server.ts';
import type { Link } from '../../../trainer/src/transport/link-api.ts';
import { connectionCase, type ExpectedFrame, type FuzzMessage, type Limits } from './frame-cases.ts';
import { protocolConnectionCase, screenAsStage, strangerFrame } from './protocol-cases.ts';
import { createRng, type Rng } from './rng.ts';
import { clientFrame, rawUpgrade, writeInPieces, type RawConnection } from './ws-raw.ts';

export interface LinkFuzzOptions {
  seed: number;
  /** Messages (and refused handshakes) to send in all. */
  cases: number;
  /** Connections in flight at once. Default 8. */
  concurrency?: number;
  maxPayloadBytes?: number;
  maxQueuedFrames?: number;
}

export interface LinkFuzzResult {
  cases: number;
  connections: number;
  /** Cases per label (valid, frame:dims-lie, ws:rsv-bits, unauthorized, ...). */
  byLabel: Record<string, number>;
  /** Close codes the link reported, per code. */
  byCloseCode: Record<number, number>;
  /** Peak growth of process.memoryUsage().arrayBuffers over the run's start, bytes. */
  peakArrayBufferGrowth: number;
  /** Largest claimed message length sent, bytes (what a server trusting headers would allocate). */
  largestClaim: number;
  maxMessageBytes: number;
  failures: string[];
  seconds: number;
}

const TOKEN = 'fuzz-token-0123456789abcdef';
const WAIT_MS = 5000;

export async function runLinkFuzz(options: LinkFuzzOptions): Promise<LinkFuzzResult> {
  const maxPayloadBytes = options.maxPayloadBytes ?? 16 * 1024;
  const maxQueuedFrames = options.maxQueuedFrames ?? 32;
  const limits: Limits = { maxPayloadBytes, maxMessageBytes: maxPayloadBytes + frameHeaderBytes(DEFAULT_MAX_RANK) };
  const started = performance.now();
  const result: LinkFuzzResult = {
    cases: 0, connections: 0, byLabel: {}, byCloseCode: {}, peakArrayBufferGrowth: 0, largestClaim: 0, maxMessageBytes: limits.maxMessageBytes, failures: [], seconds: 0,
  };
  const server = await listenLink({ token: TOKEN, maxPayloadBytes, maxQueuedFrames, maxPendingConnections: 64 });
  const accepted = acceptByPort(server);
  const baseline = process.memoryUsage().arrayBuffers;
  const sampler = setInterval(() => {
    result.peakArrayBufferGrowth = Math.max(result.peakArrayBufferGrowth, process.memoryUsage().arrayBuffers - baseline);
  }, 2);
  let index = 0;
  const rng = createRng(options.seed);
  const worker = async () => {
    while (result.cases < options.cases && result.failures.length < 10) {
      const connection = index++;
      const caseRng = rng.fork(connection);
      const failure = await runConnection(server, accepted, caseRng, limits, maxQueuedFrames, result).catch((error: Error) => `threw ${error.stack ?? error.message}`);
      if (failure) result.failures.push(`connection ${connection} of seed ${options.seed}: ${failure}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  } finally {
    clearInterval(sampler);
    accepted.stop();
    await server.close();
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

/** Accepts every connection and hands it to whoever waits for that client port. */
function acceptByPort(server: LinkServer): { byPort(port: number): Promise<Link>; stop(): void } {
  const links = new Map<number, Link>();
  const waiting = new Map<number, (link: Link) => void>();
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const link = await server.accept().catch(() => undefined);
      if (!link) return;
      const port = Number((link as { peer?: string }).peer?.split(':').pop());
      const waiter = waiting.get(port);
      if (waiter) {
        waiting.delete(port);
        waiter(link);
      } else links.set(port, link);
    }
  })();
  return {
    byPort: (port) => {
      const link = links.get(port);
      if (link) {
        links.delete(port);
        return Promise.resolve(link);
      }
      return new Promise((resolve) => waiting.set(port, resolve));
    },
    stop: () => (stopped = true),
  };
}

function tally(result: LinkFuzzResult, label: string): void {
  result.cases++;
  result.byLabel[label] = (result.byLabel[label] ?? 0) + 1;
}

/** One connection: returns a description of what went wrong, or undefined. */
async function runConnection(
  server: LinkServer, accepted: ReturnType<typeof acceptByPort>, rng: Rng, limits: Limits, maxQueuedFrames: number, result: LinkFuzzResult,
): Promise<string | undefined> {
  result.connections++;
  if (rng.chance(0.1)) return unauthorized(server, rng, result);
  // One in ten: the link screened as a stage's upstream end (evaluation frames, tied halves, wrong keys).
  const protocol = rng.chance(0.1) ? protocolConnectionCase(rng, limits) : undefined;
  const messages = protocol?.messages ?? connectionCase(rng, limits, maxQueuedFrames);
  const raw = await rawUpgrade(server.port, `Bearer ${TOKEN}`);
  if (raw.status !== 101) return `upgrade with the token answered ${raw.status}`;
  const link = await withTimeout(accepted.byPort(raw.socket.localPort!), 'the server never handed out the link');
  if (protocol) screenAsStage(link, protocol.current);
  for (const message of messages) {
    tally(result, message.label);
    result.largestClaim = Math.max(result.largestClaim, claimedLength(message.wire));
  }
  await send(raw, messages, rng);
  const last = messages.at(-1)?.outcome;
  if (last && 'peerCloses' in last && last.peerCloses === 1006) raw.socket.end();
  const delivered = messages.flatMap((m) => ('deliver' in m.outcome ? [m.outcome.deliver] : []));
  const ending = last && !('deliver' in last) ? last : undefined;
  if (!ending) {
    const wrong = await checkDelivered(link, delivered, WAIT_MS);
    await link.close('fuzz connection done');
    return wrong ?? checkClose(link, raw, { code: 1000, byPeer: false, peerSees: 1000 }, result, messages);
  }
  const expected = 'close' in ending
    ? { code: ending.close, byPeer: false, peerSees: ending.close }
    : { code: ending.peerCloses, byPeer: true, peerSees: ending.peerCloses === 1000 ? 1000 : undefined };
  const closeWrong = await checkClose(link, raw, expected, result, messages);
  // Frames that arrived before the ending stay in the mailbox and are still delivered.
  return closeWrong ?? (await checkDelivered(link, delivered, 1));
}

async function unauthorized(server: LinkServer, rng: Rng, result: LinkFuzzResult): Promise<string | undefined> {
  const header = rng.pick([undefined, 'Bearer wrong', `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, `Bearer ${TOKEN.slice(1)}`, 'Bearer', '']);
  tally(result, 'unauthorized');
  const raw = await rawUpgrade(server.port, header);
  // Whatever a refused client sends next must reach nobody: garbage, or the frames a stage's neighbour sends.
  const payload = rng.chance(0.5) ? rng.bytes(rng.int(64)) : strangerFrame(rng);
  if (!raw.socket.destroyed) raw.socket.write(clientFrame({ opcode: 0x2, payload }), () => undefined);
  await withTimeout(raw.closed, 'the server kept a refused socket open');
  return raw.status === 401 ? undefined : `upgrade with authorization ${JSON.stringify(header)} answered ${raw.status}, not 401`;
}

/** Writes every message's bytes: all in one write, in random pieces, or byte by byte. */
async function send(raw: RawConnection, messages: FuzzMessage[], rng: Rng): Promise<void> {
  const wire = Buffer.concat(messages.map((m) => m.wire));
  const mode = wire.length < 400 && rng.chance(0.1) ? 'bytes' : rng.pick(['coalesced', 'split']);
  if (mode === 'coalesced') {
    raw.socket.write(wire, () => undefined);
    return;
  }
  const pieces: number[] = [];
  for (let left = wire.length; left > 0; ) {
    const size = mode === 'bytes' ? 1 : Math.min(left, rng.between(1, Math.max(1, Math.floor(wire.length / 3))));
    pieces.push(size);
    left -= size;
  }
  await writeInPieces(raw.socket, wire, pieces);
}

async function checkDelivered(link: Link, expected: ExpectedFrame[], timeoutMs: number): Promise<string | undefined> {
  for (const want of expected) {
    let got: Frame;
    try {
      got = await link.receive(want.kind, want.step, want.microBatch, timeoutMs);
    } catch (error) {
      return `frame (${want.kind}, ${want.step}, ${want.microBatch}) not delivered: ${(error as Error).message}`;
    }
    const bytes = Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength);
    if (got.dtype !== want.dtype || got.shape.join() !== want.shape.join() || !bytes.equals(want.payload)) {
      return `frame (${want.kind}, ${want.step}, ${want.microBatch}) delivered as ${got.dtype} [${got.shape.join()}] (${bytes.length} bytes), expected ${want.dtype} [${want.shape.join()}] (${want.payload.length} bytes)`;
    }
  }
  return undefined;
}

async function checkClose(
  link: Link, raw: RawConnection, expected: { code: number; byPeer: boolean; peerSees: number | undefined }, result: LinkFuzzResult, messages: FuzzMessage[],
): Promise<string | undefined> {
  const info = await withTimeout(link.closed, 'the link never closed');
  const { serverCloseCode } = await withTimeout(raw.closed, 'the socket never closed');
  result.byCloseCode[info.code] = (result.byCloseCode[info.code] ?? 0) + 1;
  const what = messages.map((m) => m.label).join(', ');
  if (info.code !== expected.code || info.byPeer !== expected.byPeer) {
    return `[${what}] link closed with ${info.code} (byPeer ${info.byPeer}: ${info.reason}), expected ${expected.code} (byPeer ${expected.byPeer})`;
  }
  if (serverCloseCode !== expected.peerSees) return `[${what}] the peer was told ${serverCloseCode}, expected ${expected.peerSees}`;
  return undefined;
}

/** The length the first ws header of `wire` claims. */
function claimedLength(wire: Buffer): number {
  const short = wire[1]! & 0x7f;
  if (short === 126) return wire.readUInt16BE(2);
  if (short === 127) return wire.readUInt32BE(2) * 2 ** 32 + wire.readUInt32BE(6);
  return short;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} within ${WAIT_MS} ms`)), WAIT_MS);
    promise.then((value) => (clearTimeout(timer), resolve(value)), (error: unknown) => (clearTimeout(timer), reject(error as Error)));
  });
}

export interface LyingLengthsResult {
  cases: number;
  /** Sum of the lengths the headers claimed, bytes. */
  claimedBytes: number;
  peakArrayBufferGrowth: number;
  failures: string[];
}

/**
 * Headers that claim far more than they carry, one connection each, in sequence (little real
 * traffic, so GC lag cannot hide an allocation): ws lengths above the limit up to 2^63, and frame
 * dims claiming up to 2^32 elements per dim over a few bytes of payload.
 */
export async function runLyingLengths(seed: number, cases: number, maxPayloadBytes = 16 * 1024): Promise<LyingLengthsResult> {
  const maxMessageBytes = maxPayloadBytes + frameHeaderBytes(DEFAULT_MAX_RANK);
  const server = await listenLink({ token: TOKEN, maxPayloadBytes, maxPendingConnections: 64 });
  const accepted = acceptByPort(server);
  const rng = createRng(seed);
  const result: LyingLengthsResult = { cases: 0, claimedBytes: 0, peakArrayBufferGrowth: 0, failures: [] };
  const baseline = process.memoryUsage().arrayBuffers;
  const sampler = setInterval(() => {
    result.peakArrayBufferGrowth = Math.max(result.peakArrayBufferGrowth, process.memoryUsage().arrayBuffers - baseline);
  }, 1);
  try {
    for (let i = 0; i < cases && result.failures.length < 10; i++) {
      const caseRng = rng.fork(i);
      const wsLie = caseRng.chance(0.5);
      let wire: Buffer;
      if (wsLie) {
        const claim = caseRng.pick([maxMessageBytes + 1 + caseRng.int(2 ** 20), 2 ** 30, 2 ** 40, 2 ** 53 - 1, 2 ** 62]);
        result.claimedBytes += claim;
        wire = Buffer.concat([clientFrame({ opcode: 0x2, payload: Buffer.alloc(0), claimedLength: claim }), caseRng.bytes(caseRng.int(64))]);
      } else {
        const rank = caseRng.between(1, 8);
        const header = frameHeaderBytes(rank);
        const frame = Buffer.alloc(header + 16);
        frame.set([0x50, 0x54, 1, 1, 1, rank]);
        for (let d = 0; d < rank; d++) frame.writeUInt32LE(caseRng.between(0x1000, 0xffff_ffff), 16 + 4 * d);
        result.claimedBytes += 4 * 0x1000 ** rank;
        wire = clientFrame({ opcode: 0x2, payload: frame });
      }
      result.cases++;
      const raw = await rawUpgrade(server.port, `Bearer ${TOKEN}`);
      const link = await withTimeout(accepted.byPort(raw.socket.localPort!), 'the server never handed out the link');
      raw.socket.write(wire, () => undefined);
      const info = await withTimeout(link.closed, 'the link never closed');
      await withTimeout(raw.closed, 'the socket never closed');
      const want = wsLie ? 1009 : 1007;
      if (info.code !== want) result.failures.push(`case ${i} of seed ${seed}: closed with ${info.code} (${info.reason}), expected ${want}`);
    }
  } finally {
    clearInterval(sampler);
    accepted.stop();
    await server.close();
  }
  return result;
}
