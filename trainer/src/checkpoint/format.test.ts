import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeLayer, encodeLayer } from './format.ts';
import { bits, layerState } from '../../../test/support/checkpoint-fixtures.ts';

function join(chunks: Uint8Array[]): Buffer {
  return Buffer.concat(chunks);
}

void test('a layer round-trips bit for bit, including NaN, -0, denormals and infinities', () => {
  const layer = layerState(3, 7);
  const decoded = decodeLayer(join(encodeLayer(layer).chunks));
  assert.equal(decoded.layerIndex, 3);
  for (const role of ['weights', 'slots'] as const) {
    assert.deepEqual(decoded[role].map((t) => [t.name, t.shape]), layer[role].map((t) => [t.name, t.shape]));
    decoded[role].forEach((t, i) => assert.deepEqual(bits(t.data), bits(layer[role][i]!.data)));
  }
});

void test('the layout: magic, version, padded header, then raw float32 at a multiple of 8', () => {
  const layer = { layerIndex: 0, weights: [{ name: 'w', shape: [2], data: new Float32Array([1.5, -2]) }], slots: [] };
  const { chunks, bytes } = encodeLayer(layer);
  const file = join(chunks);
  assert.equal(file.length, bytes);
  assert.equal(file.toString('latin1', 0, 4), 'PTLY');
  assert.equal(file.readUInt32LE(4), 1);
  const dataStart = 12 + file.readUInt32LE(8);
  assert.equal(dataStart % 8, 0);
  assert.deepEqual(JSON.parse(file.toString('utf8', 12, dataStart)), { layerIndex: 0, tensors: [{ name: 'w', role: 'weight', shape: [2], offset: 0, length: 2 }] });
  assert.equal(file.readFloatLE(dataStart), 1.5);
  assert.equal(file.readFloatLE(dataStart + 4), -2);
});

void test('encoding does not copy tensor data: the chunks are views of the arrays', () => {
  const layer = layerState(0, 1);
  const { chunks } = encodeLayer(layer);
  assert.equal(chunks[1]!.buffer, layer.weights[0]!.data.buffer);
});

void test('a layer with no tensors (e.g. an activation) is valid', () => {
  const decoded = decodeLayer(join(encodeLayer({ layerIndex: 4, weights: [], slots: [] }).chunks));
  assert.deepEqual(decoded, { layerIndex: 4, weights: [], slots: [] });
});

void test('decoding an unaligned buffer copies instead of failing', () => {
  const file = join(encodeLayer(layerState(1, 2)).chunks);
  const shifted = Buffer.alloc(file.length + 1);
  file.copy(shifted, 1);
  const decoded = decodeLayer(shifted.subarray(1));
  assert.deepEqual(bits(decoded.weights[0]!.data), bits(layerState(1, 2).weights[0]!.data));
});

void test('a shape that does not match its data is refused when encoding', () => {
  const layer = { layerIndex: 2, weights: [{ name: 'k', shape: [2, 2], data: new Float32Array(3) }], slots: [] };
  assert.throws(() => encodeLayer(layer), { name: 'TypeError', message: 'layer 2 tensor k: shape [2, 2] does not match 3 values.' });
});

void test('corrupt files are refused with a reason', () => {
  const file = join(encodeLayer(layerState(0, 1)).chunks);
  const cases: Array<[Buffer, RegExp]> = [
    [file.subarray(0, 8), /too short/],
    [Buffer.concat([Buffer.from('XXXX'), file.subarray(4)]), /bad magic/],
    [file.subarray(0, file.length - 4), /size \d+ bytes, header says \d+/],
    [Buffer.concat([file, Buffer.alloc(4)]), /size/],
  ];
  const badVersion = Buffer.from(file);
  badVersion.writeUInt32LE(9, 4);
  cases.push([badVersion, /unsupported layer file version 9/]);
  const badHeader = Buffer.from(file);
  badHeader.write('#', 12);
  cases.push([badHeader, /unreadable header/]);
  for (const [bytes, message] of cases) assert.throws(() => decodeLayer(bytes), message);
});
