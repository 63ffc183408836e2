// Fuzz cases for stage links: random valid frames, frames mutated in every header field, lengths
// that lie (in the frame header and in the ws header), text, ws protocol violations, and the
// outcome each must have. The outcome comes from a reference reading of the frame layout written
// here from the layout comment of trainer/src/transport/frame.ts, not from decodeFrame.
import { encodeFrame, frameHeaderBytes, type Frame } from '../../../trainer/src/transport/frame.ts';
import { DTYPE_BY_CODE, FrameKind, type DType } from '../../../trainer/src/transport/kinds.ts';
import type { Rng } from './rng.ts';
import { clientFrame } from './ws-raw.ts';

/** What the stage link must do with a message. */
export type Outcome =
  | { deliver: ExpectedFrame }
  /** The server closes with this code (it decided: byPeer false). */
  | { close: number }
  /** The client closes (1000) or drops the socket (1006): the link reports it as by the peer. */
  | { peerCloses: number };

export interface ExpectedFrame {
  kind: number;
  step: number;
  microBatch: number;
  dtype: DType;
  shape: number[];
  payload: Buffer;
}

export interface FuzzMessage {
  /** The kind of case, for the tally (e.g. 'valid', 'frame:bad-kind', 'ws:rsv'). */
  label: string;
  /** The ws frame bytes on the wire. */
  wire: Buffer;
  outcome: Outcome;
}

export interface Limits {
  maxPayloadBytes: number;
  /** ws maxPayload of the link: maxPayloadBytes plus the largest header. */
  maxMessageBytes: number;
}

const KINDS = Object.values(FrameKind);
const DTYPES: DType[] = ['float32', 'int32', 'uint8', 'float64'];
const ARRAYS = { float32: Float32Array, int32: Int32Array, uint8: Uint8Array, float64: Float64Array } as const;
const U32 = 0xffff_ffff;

/** A random valid frame whose payload fits the limit. */
export function randomFrame(rng: Rng, limits: Limits, key?: { step: number; microBatch: number }): Frame {
  const dtype = rng.pick(DTYPES);
  const width = ARRAYS[dtype].BYTES_PER_ELEMENT;
  const rank = rng.chance(0.8) ? rng.between(0, 3) : rng.between(4, 8);
  const budget = Math.floor(limits.maxPayloadBytes / width);
  const shape: number[] = [];
  let elements = 1;
  for (let i = 0; i < rank; i++) {
    const room = Math.floor(budget / Math.max(1, elements));
    const dim = rng.chance(0.05) ? 0 : rng.between(1, Math.max(1, Math.min(room, rng.chance(0.1) ? room : 6)));
    shape.push(dim);
    elements *= dim;
  }
  const data = new ARRAYS[dtype](elements);
  new Uint8Array(data.buffer).set(rng.bytes(data.byteLength)); // any bits, NaNs included
  return {
    kind: rng.pick(KINDS), step: key?.step ?? rng.int(U32 + 1), microBatch: key?.microBatch ?? rng.int(U32 + 1), dtype, shape, data,
  };
}

/** Reference verdict of one binary message: the frame it must deliver, or the close code. */
export function referenceOutcome(bytes: Buffer, limits: Limits): Outcome {
  if (bytes.length > limits.maxMessageBytes) return { close: 1009 };
  if (bytes.length < 16) return { close: 1007 };
  const [magic0, magic1, version, kind, dtypeCode, rank] = bytes;
  if (magic0 !== 0x50 || magic1 !== 0x54 || version !== 1) return { close: 1007 };
  if (!KINDS.includes(kind as never) || DTYPE_BY_CODE[dtypeCode!] === undefined || rank! > 8) return { close: 1007 };
  if (bytes.readUInt16LE(6) !== 0) return { close: 1007 };
  const header = Math.ceil((16 + 4 * rank!) / 8) * 8;
  if (bytes.length < header) return { close: 1007 };
  if (bytes.subarray(16 + 4 * rank!, header).some((b) => b !== 0)) return { close: 1007 };
  const payload = bytes.length - header;
  if (payload > limits.maxPayloadBytes) return { close: 1009 };
  const shape = Array.from({ length: rank! }, (_, i) => bytes.readUInt32LE(16 + 4 * i));
  const info = DTYPE_BY_CODE[dtypeCode!]!;
  const needed = shape.reduce((a, b) => a * BigInt(b), 1n) * BigInt(info.bytes); // exact, no float rounding
  if (needed !== BigInt(payload)) return { close: 1007 };
  return {
    deliver: { kind: kind!, step: bytes.readUInt32LE(8), microBatch: bytes.readUInt32LE(12), dtype: info.dtype, shape, payload: Buffer.from(bytes.subarray(header)) },
  };
}

/** A frame's bytes changed in one way; the reference decides what that makes of it. */
function mutateFrame(rng: Rng, frame: Frame, limits: Limits): { label: string; bytes: Buffer } {
  const bytes = Buffer.from(encodeFrame(frame));
  const rank = frame.shape.length;
  const header = frameHeaderBytes(rank);
  const mutation = rng.int(13);
  switch (mutation) {
    case 0: // flip bits anywhere in the header
      for (let i = rng.between(1, 3); i > 0; i--) bytes[rng.int(header)]! ^= 1 << rng.int(8);
      return { label: 'frame:header-bits', bytes };
    case 1:
      bytes[rng.int(2)] = rng.int(256);
      return { label: 'frame:magic', bytes };
    case 2:
      bytes[2] = rng.pick([0, 2, 255, rng.int(256)]);
      return { label: 'frame:version', bytes };
    case 3:
      bytes[3] = rng.pick([0, 6, 127, 255, rng.int(256)]);
      return { label: 'frame:kind', bytes };
    case 4:
      bytes[4] = rng.pick([0, 5, 255, rng.int(256)]);
      return { label: 'frame:dtype', bytes };
    case 5: // a rank that does not match the dims present (header length lies)
      bytes[5] = rng.pick([rank + 1, Math.max(0, rank - 1), 9, 32, 255, rng.int(256)]);
      return { label: 'frame:rank', bytes };
    case 6:
      bytes.writeUInt16LE(rng.between(1, 0xffff), 6);
      return { label: 'frame:reserved', bytes };
    case 7: { // dims that lie about the payload: off by a little, or huge
      if (rank === 0) return { label: 'frame:truncated', bytes: bytes.subarray(0, rng.int(bytes.length)) };
      const i = rng.int(rank);
      const dim = frame.shape[i]!;
      bytes.writeUInt32LE(rng.pick([dim + 1, Math.max(0, dim - 1), U32, 0x8000_0000, rng.int(U32 + 1)]) >>> 0, 16 + 4 * i);
      return { label: 'frame:dims-lie', bytes };
    }
    case 8:
      return { label: 'frame:truncated', bytes: bytes.subarray(0, rng.int(bytes.length)) };
    case 9:
      return { label: 'frame:appended', bytes: Buffer.concat([bytes, rng.bytes(rng.between(1, 16))]) };
    case 10: { // nonzero padding (only rank 1, 3, 5, 7 have padding)
      if (16 + 4 * rank === header) return { label: 'frame:garbage', bytes: rng.bytes(rng.int(200)) };
      bytes[rng.between(16 + 4 * rank, header - 1)] = rng.between(1, 255);
      return { label: 'frame:padding', bytes };
    }
    case 11: { // a consistent frame whose payload exceeds maxPayloadBytes by up to the header margin, or the message limit
      const over = rng.chance(0.5) ? limits.maxPayloadBytes + rng.between(1, 40) : limits.maxMessageBytes + rng.between(1, 4096);
      const big = encodeFrame({ kind: FrameKind.Activation, step: 0, microBatch: 0, dtype: 'uint8', shape: [over], data: new Uint8Array(over) });
      return { label: 'frame:too-big', bytes: Buffer.from(big) };
    }
    default:
      return { label: 'frame:garbage', bytes: rng.bytes(rng.int(rng.chance(0.5) ? 24 : 400)) };
  }
}

/** A binary message sent as 2-4 ws fragments (legal); sometimes with a ping between them (also legal). */
function fragmented(rng: Rng, bytes: Buffer): Buffer {
  const parts = rng.between(2, 4);
  const cuts = [0, ...Array.from({ length: parts - 1 }, () => rng.int(bytes.length + 1)).sort((a, b) => a - b), bytes.length];
  const frames: Buffer[] = [];
  for (let i = 0; i < parts; i++) {
    frames.push(clientFrame({ opcode: i === 0 ? 0x2 : 0x0, fin: i === parts - 1, payload: bytes.subarray(cuts[i], cuts[i + 1]) }));
    if (i < parts - 1 && rng.chance(0.2)) frames.push(clientFrame({ opcode: 0x9, payload: rng.bytes(rng.int(20)) }));
  }
  return Buffer.concat(frames);
}

/** A binary message wrapped the legal ways: one ws frame, or fragments. */
export function binaryMessage(rng: Rng, label: string, bytes: Buffer, limits: Limits): FuzzMessage {
  const wire = rng.chance(0.2) ? fragmented(rng, bytes) : clientFrame({ opcode: 0x2, payload: bytes });
  return { label, wire, outcome: referenceOutcome(bytes, limits) };
}

/** A ws-level violation or edge case; each ends the connection. */
function wsCase(rng: Rng, limits: Limits): FuzzMessage {
  const frame = encodeFrame(randomFrame(rng, limits));
  switch (rng.int(10)) {
    case 0:
      return { label: 'ws:rsv-bits', wire: clientFrame({ opcode: 0x2, payload: frame, rsv: rng.between(1, 7) }), outcome: { close: 1002 } };
    case 1:
      return { label: 'ws:unmasked', wire: clientFrame({ opcode: 0x2, payload: frame, masked: false }), outcome: { close: 1002 } };
    case 2:
      return { label: 'ws:opcode', wire: clientFrame({ opcode: rng.pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]), payload: frame }), outcome: { close: 1002 } };
    case 3:
      return { label: 'ws:control-too-long', wire: clientFrame({ opcode: 0x9, payload: rng.bytes(rng.between(126, 300)) }), outcome: { close: 1002 } };
    case 4:
      return { label: 'ws:continuation-first', wire: clientFrame({ opcode: 0x0, payload: frame }), outcome: { close: 1002 } };
    case 5: // claims more than the link accepts: refused from the header alone, the body never sent
      return { label: 'ws:length-over-max', wire: clientFrame({ opcode: 0x2, payload: Buffer.alloc(0), claimedLength: rng.pick([limits.maxMessageBytes + 1, 2 ** 31, 2 ** 40, 2 ** 53 - 1]) }), outcome: { close: 1009 } };
    case 6:
      return { label: 'ws:length-over-2^53', wire: clientFrame({ opcode: 0x2, payload: Buffer.alloc(0), claimedLength: rng.pick([2 ** 53, 2 ** 60, 2 ** 63]) }), outcome: { close: 1009 } };
    case 7:
      return { label: 'text', wire: clientFrame({ opcode: 0x1, payload: Buffer.from(`{"step": ${rng.int(100)}}`) }), outcome: { close: 1003 } };
    case 8:
      return { label: 'text:invalid-utf8', wire: clientFrame({ opcode: 0x1, payload: Buffer.from([0x61, 0xff, 0xfe, 0x62]) }), outcome: { close: 1007 } };
    default: // claims a body within the limit, sends less and drops the connection: the link sees 1006
      return { label: 'ws:short-body', wire: clientFrame({ opcode: 0x2, payload: frame.subarray(0, rng.int(frame.length)), claimedLength: frame.length }), outcome: { peerCloses: 1006 } };
  }
}

/** The messages of one connection: valid frames, then (usually) one case that ends it. */
export function connectionCase(rng: Rng, limits: Limits, maxQueuedFrames: number): FuzzMessage[] {
  const messages: FuzzMessage[] = [];
  const flood = rng.chance(0.01);
  const valid = flood ? maxQueuedFrames + 1 : rng.int(6);
  for (let i = 0; i < valid; i++) {
    // Distinct keys per connection (microBatch = index), so each delivered frame is checked exactly.
    const frame = randomFrame(rng, flood ? { ...limits, maxPayloadBytes: 64 } : limits, { step: rng.int(U32 + 1), microBatch: i });
    messages.push(binaryMessage(rng, flood ? 'flood' : 'valid', Buffer.from(encodeFrame(frame)), limits));
  }
  if (flood) {
    messages[messages.length - 1]!.outcome = { close: 1008 }; // the frame that overflows the mailbox
    return messages;
  }
  const ending = rng.int(10);
  if (ending < 6) {
    const { label, bytes } = mutateFrame(rng, randomFrame(rng, limits, { step: rng.int(U32 + 1), microBatch: valid }), limits);
    messages.push(binaryMessage(rng, label, bytes, limits));
  } else if (ending < 9) {
    messages.push(wsCase(rng, limits));
  } else if (rng.chance(0.5)) {
    messages.push({ label: 'ws:client-close', wire: clientFrame({ opcode: 0x8, payload: Buffer.from([0x03, 0xe8]) }), outcome: { peerCloses: 1000 } });
  }
  return messages;
}
