// The layer file (`layer-0003.bin`): one layer's weights and optimizer slots.
//
//   offset 0   4 bytes   magic "PTLY"
//   offset 4   uint32 LE format version (1)
//   offset 8   uint32 LE H, byte length of the JSON header
//   offset 12  H bytes   UTF-8 JSON header, padded with spaces so the data starts at a multiple of 8:
//                        { "layerIndex": 3, "tensors": [ { "name", "role": "weight"|"slot",
//                          "shape": [..], "offset": bytes from the data start, "length": elements } ] }
//   offset 12+H          raw little-endian float32 values of every tensor, back to back, in header order
//                        (weights in layer order, then slots).
// The file size is exactly 12 + H + 4 * (sum of lengths); anything else is a corrupt file.
import os from 'node:os';
import type { LayerState, TensorRecord } from './types.ts';

const MAGIC = 'PTLY';
const VERSION = 1;
const PREFIX_BYTES = 12;
const LITTLE_ENDIAN = os.endianness() === 'LE';

interface TensorEntry { name: string; role: 'weight' | 'slot'; shape: number[]; offset: number; length: number }
interface Header { layerIndex: number; tensors: TensorEntry[] }

export interface EncodedLayer {
  /** Byte chunks to write in order: the prefix+header, then one view per tensor. */
  chunks: Uint8Array[];
  bytes: number;
}

/**
 * Encodes without copying tensor data on little-endian machines: the chunks are views of the
 * caller's arrays (only the small header is allocated), so this costs microseconds even for
 * hundreds of MiB. Throws a TypeError when a shape does not match its data.
 */
export function encodeLayer(layer: LayerState): EncodedLayer {
  const tensors: TensorEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const add = (record: TensorRecord, role: TensorEntry['role']): void => {
    checkTensor(record, layer.layerIndex);
    tensors.push({ name: record.name, role, shape: record.shape, offset, length: record.data.length });
    chunks.push(littleEndianBytes(record.data));
    offset += record.data.byteLength;
  };
  for (const record of layer.weights) add(record, 'weight');
  for (const record of layer.slots) add(record, 'slot');
  const header: Header = { layerIndex: layer.layerIndex, tensors };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerBytes = json.length + ((8 - ((PREFIX_BYTES + json.length) % 8)) % 8);
  const head = Buffer.alloc(PREFIX_BYTES + headerBytes, 0x20);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(VERSION, 4);
  head.writeUInt32LE(headerBytes, 8);
  json.copy(head, PREFIX_BYTES);
  return { chunks: [head, ...chunks], bytes: head.length + offset };
}

/** Decodes a whole layer file. The arrays are views of `bytes` when it is 4-byte aligned. Throws an Error saying what is wrong. */
export function decodeLayer(bytes: Uint8Array): LayerState {
  if (bytes.length < PREFIX_BYTES) throw new Error(`too short (${bytes.length} bytes) for a layer file`);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.toString('latin1', 0, 4) !== MAGIC) throw new Error('not a layer file (bad magic)');
  const version = buffer.readUInt32LE(4);
  if (version !== VERSION) throw new Error(`unsupported layer file version ${version}`);
  const headerBytes = buffer.readUInt32LE(8);
  const dataStart = PREFIX_BYTES + headerBytes;
  if (dataStart > buffer.length) throw new Error('header longer than the file');
  const header = parseHeader(buffer.toString('utf8', PREFIX_BYTES, dataStart));
  const dataBytes = header.tensors.reduce((sum, t) => sum + 4 * t.length, 0);
  if (dataStart + dataBytes !== buffer.length) throw new Error(`size ${buffer.length} bytes, header says ${dataStart + dataBytes}`);
  const layer: LayerState = { layerIndex: header.layerIndex, weights: [], slots: [] };
  for (const t of header.tensors) {
    if (t.offset + 4 * t.length > dataBytes || t.offset % 4 !== 0) throw new Error(`tensor ${t.name} lies outside the data`);
    const data = readFloats(bytes, dataStart + t.offset, t.length);
    (t.role === 'weight' ? layer.weights : layer.slots).push({ name: t.name, shape: t.shape, data });
  }
  return layer;
}

function checkTensor(record: TensorRecord, layerIndex: number): void {
  const size = record.shape.reduce((a, b) => a * b, 1);
  if (!record.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || size !== record.data.length) {
    throw new TypeError(`layer ${layerIndex} tensor ${record.name}: shape [${record.shape.join(', ')}] does not match ${record.data.length} values.`);
  }
}

function parseHeader(text: string): Header {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error('unreadable header', { cause: error });
  }
  const header = value as Header;
  const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  const ok =
    typeof header === 'object' && header !== null && isCount(header.layerIndex) && Array.isArray(header.tensors) &&
    header.tensors.every((t) =>
      typeof t.name === 'string' && (t.role === 'weight' || t.role === 'slot') && isCount(t.offset) && isCount(t.length) &&
      Array.isArray(t.shape) && t.shape.every(isCount) && t.shape.reduce((a, b) => a * b, 1) === t.length);
  if (!ok) throw new Error('malformed header');
  return header;
}

function littleEndianBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  data.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return out;
}

function readFloats(bytes: Uint8Array, start: number, length: number): Float32Array {
  const at = bytes.byteOffset + start;
  if (LITTLE_ENDIAN && at % 4 === 0) return new Float32Array(bytes.buffer, at, length);
  if (LITTLE_ENDIAN) return new Float32Array(bytes.buffer.slice(at, at + 4 * length));
  const view = new DataView(bytes.buffer, at, 4 * length);
  return Float32Array.from({ length }, (_, i) => view.getFloat32(4 * i, true));
}
