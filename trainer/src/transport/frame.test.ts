import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame, encodeFrame, frameHeaderBytes, FrameError, type Frame } from './frame.ts';
import { FrameKind, type DType, type FrameData } from './kinds.ts';

function makeData(dtype: DType, n: number): FrameData {
  switch (dtype) {
    case 'float32':
      return Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3.25);
    case 'float64':
      return Float64Array.from({ length: n }, (_, i) => i / 3 - 1e-300);
    case 'int32':
      return Int32Array.from({ length: n }, (_, i) => (i % 2 === 0 ? -i : i * 1000));
    case 'uint8':
      return Uint8Array.from({ length: n }, (_, i) => (i * 37) & 0xff);
  }
}

const dtypes: DType[] = ['float32', 'int32', 'uint8', 'float64'];
// Dims for rank r: small values so rank 8 stays tiny (2^... elements).
const shapeOfRank = (rank: number): number[] => Array.from({ length: rank }, (_, i) => (i % 3) + 1);

function frame(overrides: Partial<Frame> = {}): Frame {
  return { kind: FrameKind.Activation, step: 7, microBatch: 3, dtype: 'float32', shape: [2, 3], data: makeData('float32', 6), ...overrides };
}

function assertFrameError(fn: () => unknown, reason: string): void {
  assert.throws(fn, (err: unknown) => err instanceof FrameError && err.reason === reason);
}

void test('round trip for every dtype and rank 0..8', () => {
  for (const dtype of dtypes) {
    for (let rank = 0; rank <= 8; rank++) {
      const shape = shapeOfRank(rank);
      const n = shape.reduce((a, b) => a * b, 1);
      const original = frame({ kind: FrameKind.Gradient, step: 0xffff_ffff, microBatch: rank, dtype, shape, data: makeData(dtype, n) });
      const bytes = encodeFrame(original);
      assert.equal(bytes.length, frameHeaderBytes(rank) + n * original.data.BYTES_PER_ELEMENT);
      assert.equal(frameHeaderBytes(rank) % 8, 0);
      const decoded = decodeFrame(bytes);
      assert.deepEqual(decoded, original, `${dtype} rank ${rank}`);
    }
  }
});

void test('zero-sized dims and the scalar case', () => {
  const empty = frame({ shape: [4, 0, 2], data: new Float32Array(0) });
  assert.deepEqual(decodeFrame(encodeFrame(empty)), empty);
  const scalar = frame({ dtype: 'float64', shape: [], data: Float64Array.of(Math.PI) });
  assert.deepEqual(decodeFrame(encodeFrame(scalar)).data, Float64Array.of(Math.PI));
});

void test('decoding views aligned payloads in place and copies unaligned ones', () => {
  const bytes = encodeFrame(frame({ shape: [1024], data: makeData('float32', 1024) }));
  const aligned = new Uint8Array(new ArrayBuffer(bytes.length));
  aligned.set(bytes);
  assert.equal(decodeFrame(aligned).data.buffer, aligned.buffer);

  const shifted = new Uint8Array(new ArrayBuffer(bytes.length + 1), 1);
  shifted.set(bytes);
  const decoded = decodeFrame(shifted);
  assert.notEqual(decoded.data.buffer, shifted.buffer);
  assert.deepEqual(decoded.data, makeData('float32', 1024));
});

void test('payload bytes are little-endian on the wire', () => {
  const bytes = encodeFrame(frame({ dtype: 'int32', shape: [1], data: Int32Array.of(0x01020304) }));
  assert.deepEqual([...bytes.subarray(frameHeaderBytes(1))], [4, 3, 2, 1]);
});

void test('encodeFrame rejects invalid frames', () => {
  assertFrameError(() => encodeFrame(frame({ kind: 99 })), 'unknown-kind');
  assertFrameError(() => encodeFrame(frame({ dtype: 'float16' as DType })), 'unknown-dtype');
  assertFrameError(() => encodeFrame(frame({ step: -1 })), 'bad-step');
  assertFrameError(() => encodeFrame(frame({ step: Number.NaN })), 'bad-step');
  assertFrameError(() => encodeFrame(frame({ microBatch: 1.5 })), 'bad-micro-batch');
  assertFrameError(() => encodeFrame(frame({ shape: [-2, -3] })), 'bad-dim');
  assertFrameError(() => encodeFrame(frame({ shape: [7] })), 'shape-mismatch');
  assertFrameError(() => encodeFrame(frame({ data: makeData('int32', 6) })), 'dtype-mismatch');
});

void test('decodeFrame rejects malformed frames', () => {
  const good = encodeFrame(frame());
  const mutate = (offset: number, value: number): Buffer => {
    const copy = Buffer.from(good);
    copy[offset] = value;
    return copy;
  };
  assertFrameError(() => decodeFrame(new Uint8Array(0)), 'too-short');
  assertFrameError(() => decodeFrame(Buffer.from('hello world, this is text')), 'bad-magic');
  assertFrameError(() => decodeFrame(mutate(0, 0x00)), 'bad-magic');
  assertFrameError(() => decodeFrame(mutate(2, 2)), 'bad-version');
  assertFrameError(() => decodeFrame(mutate(3, 0)), 'unknown-kind');
  assertFrameError(() => decodeFrame(mutate(3, 200)), 'unknown-kind');
  assertFrameError(() => decodeFrame(mutate(4, 9)), 'unknown-dtype');
  assertFrameError(() => decodeFrame(mutate(5, 9)), 'rank-too-large');
  assertFrameError(() => decodeFrame(mutate(6, 1)), 'bad-reserved');
  assertFrameError(() => decodeFrame(mutate(16, 3)), 'length-mismatch'); // dims [3, 3] vs 6 elements
  assertFrameError(() => decodeFrame(mutate(19, 0xff)), 'length-mismatch'); // huge dim, no overflow to a match
  const rank1 = Buffer.from(encodeFrame(frame({ shape: [6] }))); // dims end at 20, padding 20..23
  rank1[21] = 1;
  assertFrameError(() => decodeFrame(rank1), 'bad-padding');
});

void test('decodeFrame rejects truncated and padded-out frames', () => {
  const good = encodeFrame(frame({ shape: [4, 4], data: makeData('float32', 16) }));
  for (const cut of [1, 15, 16, 20, 23, 24, good.length - 1]) {
    assert.throws(() => decodeFrame(good.subarray(0, cut)), FrameError, `cut at ${cut}`);
  }
  assertFrameError(() => decodeFrame(Buffer.concat([good, Buffer.alloc(4)])), 'length-mismatch');
});

void test('decodeFrame enforces maxPayloadBytes and maxRank', () => {
  const big = encodeFrame(frame({ shape: [256], data: makeData('float32', 256) }));
  assert.equal(decodeFrame(big, { maxPayloadBytes: 1024 }).data.length, 256);
  assertFrameError(() => decodeFrame(big, { maxPayloadBytes: 1023 }), 'payload-too-large');
  const rank3 = encodeFrame(frame({ shape: [1, 2, 3] }));
  assert.equal(decodeFrame(rank3, { maxRank: 3 }).shape.length, 3);
  assertFrameError(() => decodeFrame(rank3, { maxRank: 2 }), 'rank-too-large');
});
