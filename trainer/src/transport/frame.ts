// Binary frame codec: a small fixed header followed by the raw little-endian element bytes.
// No JSON or base64 on the hot path; shapes travel in the header so they may vary per frame.
//
// Layout (all integers little-endian):
//   0  u8[2]  magic 'P' 'T'
//   2  u8     version (1)
//   3  u8     kind (FrameKind)
//   4  u8     dtype (DTypeCode)
//   5  u8     rank (0 = scalar, at most maxRank)
//   6  u16    reserved, must be 0
//   8  u32    step
//  12  u32    microBatch
//  16  u32 x rank  dims
//  ..  zero padding up to the next multiple of 8 (so the payload can be viewed in place)
//  ..  payload: product(dims) x element size bytes
import { endianness } from 'node:os';
import { DTYPE_BY_CODE, DTYPE_CODE, isKnownKind, type DType, type FrameData } from './kinds.ts';

export const FRAME_MAGIC_0 = 0x50; // 'P'
export const FRAME_MAGIC_1 = 0x54; // 'T'
export const FRAME_VERSION = 1;
/** Header bytes before the dims. */
const FIXED_HEADER_BYTES = 16;
/** Default bound on the rank accepted by decodeFrame. */
export const DEFAULT_MAX_RANK = 8;
/** Hard bound on rank (the rank field is a u8, but nothing real needs more than this). */
const ABSOLUTE_MAX_RANK = 32;
/** Default payload bound of decodeFrame: ws's own default maxPayload, 100 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 100 * 1024 * 1024;
const U32_MAX = 0xffff_ffff;
const HOST_IS_LE = endianness() === 'LE';

export interface Frame {
  kind: number;
  step: number;
  microBatch: number;
  dtype: DType;
  /** Dimensions; [] for a scalar. */
  shape: number[];
  /** Row-major elements; length = product(shape). */
  data: FrameData;
}

export interface DecodeLimits {
  /** Largest accepted payload in bytes (header excluded). Default 100 MiB. */
  maxPayloadBytes?: number;
  /** Largest accepted rank. Default 8. */
  maxRank?: number;
}

/** A frame that cannot be encoded or decoded; `reason` is a short stable code for logs and tests. */
export class FrameError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = 'FrameError';
    this.reason = reason;
  }
}

/** Header size in bytes for a given rank, padding included (a multiple of 8). */
export function frameHeaderBytes(rank: number): number {
  return Math.ceil((FIXED_HEADER_BYTES + 4 * rank) / 8) * 8;
}

function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= U32_MAX;
}

/** Validates a frame for encoding; returns its dtype code. Throws FrameError. */
function checkFrame(frame: Frame): number {
  const { kind, step, microBatch, dtype, shape, data } = frame;
  if (!isKnownKind(kind)) throw new FrameError('unknown-kind', `Frame kind ${String(kind)} is not a known FrameKind.`);
  const code = DTYPE_CODE[dtype];
  if (code === undefined) throw new FrameError('unknown-dtype', `Frame dtype ${String(dtype)} is not supported.`);
  if (!isU32(step)) throw new FrameError('bad-step', `Frame step must be an integer in [0, 2^32), got ${step}.`);
  if (!isU32(microBatch)) {
    throw new FrameError('bad-micro-batch', `Frame microBatch must be an integer in [0, 2^32), got ${microBatch}.`);
  }
  if (shape.length > ABSOLUTE_MAX_RANK) throw new FrameError('rank-too-large', `Frame rank ${shape.length} exceeds ${ABSOLUTE_MAX_RANK}.`);
  let elements = 1;
  for (const dim of shape) {
    if (!isU32(dim)) throw new FrameError('bad-dim', `Frame dims must be integers in [0, 2^32), got ${dim}.`);
    elements *= dim;
  }
  const info = DTYPE_BY_CODE[code];
  if (info === undefined || !(data instanceof info.array)) {
    throw new FrameError('dtype-mismatch', `Frame data is a ${data.constructor.name}, which does not match dtype ${dtype}.`);
  }
  if (data.length !== elements) {
    throw new FrameError('shape-mismatch', `Frame shape [${shape.join(', ')}] needs ${elements} elements, data has ${data.length}.`);
  }
  return code;
}

/** Encoded size of a frame in bytes (header, padding and payload). */
export function encodedFrameBytes(frame: Frame): number {
  return frameHeaderBytes(frame.shape.length) + frame.data.byteLength;
}

/** Encodes a frame into one freshly allocated Buffer (the data is copied; the caller may reuse it). */
export function encodeFrame(frame: Frame): Buffer {
  return encodeFrameInto(frame, Buffer.allocUnsafe(encodedFrameBytes(frame)));
}

/**
 * Encodes into `out`, which must be exactly encodedFrameBytes(frame) long (e.g. a reused buffer,
 * which spares the sender a fresh allocation and its page faults per frame). Returns `out`.
 */
export function encodeFrameInto(frame: Frame, out: Buffer): Buffer {
  const code = checkFrame(frame);
  const { shape, data } = frame;
  const headerBytes = frameHeaderBytes(shape.length);
  if (out.length !== headerBytes + data.byteLength) {
    throw new FrameError('bad-target', `Target buffer has ${out.length} bytes, the frame needs ${headerBytes + data.byteLength}.`);
  }
  out.fill(0, 0, headerBytes); // reserved field and padding are zero
  out[0] = FRAME_MAGIC_0;
  out[1] = FRAME_MAGIC_1;
  out[2] = FRAME_VERSION;
  out[3] = frame.kind;
  out[4] = code;
  out[5] = shape.length;
  out.writeUInt32LE(frame.step, 8);
  out.writeUInt32LE(frame.microBatch, 12);
  shape.forEach((dim, i) => out.writeUInt32LE(dim, FIXED_HEADER_BYTES + 4 * i));
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), headerBytes);
  if (!HOST_IS_LE) swapInPlace(out.subarray(headerBytes), data.BYTES_PER_ELEMENT);
  return out;
}

/**
 * Decodes and validates a frame. The returned data is a view into `bytes` when the payload is
 * aligned in the underlying ArrayBuffer (no copy), otherwise a copy. Throws FrameError.
 */
export function decodeFrame(bytes: Uint8Array, limits: DecodeLimits = {}): Frame {
  const maxPayloadBytes = limits.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const maxRank = Math.min(limits.maxRank ?? DEFAULT_MAX_RANK, ABSOLUTE_MAX_RANK);
  if (bytes.length < FIXED_HEADER_BYTES) {
    throw new FrameError('too-short', `Frame has ${bytes.length} bytes, fewer than the ${FIXED_HEADER_BYTES}-byte header.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== FRAME_MAGIC_0 || bytes[1] !== FRAME_MAGIC_1) throw new FrameError('bad-magic', 'Frame does not start with the magic bytes "PT".');
  if (bytes[2] !== FRAME_VERSION) throw new FrameError('bad-version', `Frame version ${bytes[2]} is not supported (expected ${FRAME_VERSION}).`);
  const kind = view.getUint8(3);
  if (!isKnownKind(kind)) throw new FrameError('unknown-kind', `Frame kind ${kind} is not a known FrameKind.`);
  const dtypeInfo = DTYPE_BY_CODE[view.getUint8(4)];
  if (dtypeInfo === undefined) throw new FrameError('unknown-dtype', `Frame dtype code ${view.getUint8(4)} is not supported.`);
  const rank = view.getUint8(5);
  if (rank > maxRank) throw new FrameError('rank-too-large', `Frame rank ${rank} exceeds the limit ${maxRank}.`);
  if (view.getUint16(6, true) !== 0) throw new FrameError('bad-reserved', 'Frame reserved header field is not zero.');
  const headerBytes = frameHeaderBytes(rank);
  if (bytes.length < headerBytes) {
    throw new FrameError('too-short', `Frame of rank ${rank} needs a ${headerBytes}-byte header, got ${bytes.length} bytes.`);
  }
  for (let i = FIXED_HEADER_BYTES + 4 * rank; i < headerBytes; i++) {
    if (bytes[i] !== 0) throw new FrameError('bad-padding', 'Frame header padding is not zero.');
  }
  const payloadBytes = bytes.length - headerBytes;
  if (payloadBytes > maxPayloadBytes) {
    throw new FrameError('payload-too-large', `Frame payload of ${payloadBytes} bytes exceeds the limit of ${maxPayloadBytes} bytes.`);
  }
  const shape: number[] = [];
  let elements = 1; // exact while <= payloadBytes (checked below), so no precision loss matters
  for (let i = 0; i < rank; i++) {
    const dim = view.getUint32(FIXED_HEADER_BYTES + 4 * i, true);
    shape.push(dim);
    elements *= dim;
  }
  if (elements * dtypeInfo.bytes !== payloadBytes) {
    throw new FrameError(
      'length-mismatch',
      `Frame shape [${shape.join(', ')}] of ${dtypeInfo.dtype} needs ${elements * dtypeInfo.bytes} payload bytes, got ${payloadBytes}.`,
    );
  }
  const start = bytes.byteOffset + headerBytes;
  let data: FrameData;
  if (HOST_IS_LE && start % dtypeInfo.bytes === 0) {
    data = new dtypeInfo.array(bytes.buffer as ArrayBuffer, start, elements); // view, no copy
  } else {
    data = new dtypeInfo.array(elements);
    const target = new Uint8Array(data.buffer);
    target.set(bytes.subarray(headerBytes));
    if (!HOST_IS_LE) swapInPlace(target, dtypeInfo.bytes);
  }
  return {
    kind,
    step: view.getUint32(8, true),
    microBatch: view.getUint32(12, true),
    dtype: dtypeInfo.dtype,
    shape,
    data,
  };
}

/** Reverses the byte order of each element (only on big-endian hosts). */
function swapInPlace(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i + width <= bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}
