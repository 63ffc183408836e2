// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}, then
// the raw little-endian tensor bytes, every byte of which belongs to exactly one tensor.
//
// We write float32 only (what pipetrain trains in) and read float32, float16 and bfloat16 (widened
// to float32 exactly). Every problem names the file and what to do.
import { readFile } from 'node:fs/promises';
import { FormatError } from './format-error.ts';

export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: NamedTensor[];
  metadata: Record<string, string>;
}

/** The Rust implementation refuses headers over 100 MB; so do we (a lying length must not allocate). */
const MAX_HEADER_BYTES = 100_000_000;
const READABLE = { F32: 4, F16: 2, BF16: 2 } as const;
type ReadableDtype = keyof typeof READABLE;
const KNOWN_DTYPES = new Set(['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64']);

/** Encodes tensors (in the given order) and string metadata as one safetensors file. */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const tensor of tensors) {
    if (tensor.name === '__metadata__' || tensor.name in header) throw new FormatError(`safetensors: tensor name ${JSON.stringify(tensor.name)} is used twice or reserved`);
    const elements = tensor.shape.reduce((a, b) => a * b, 1);
    if (elements !== tensor.data.length) throw new FormatError(`safetensors: tensor ${tensor.name} has shape [${tensor.shape.join(', ')}] but ${tensor.data.length} values`);
    header[tensor.name] = { dtype: 'F32', shape: tensor.shape, data_offsets: [offset, offset + tensor.data.length * 4] };
    offset += tensor.data.length * 4;
  }
  // Pad the header with spaces to a multiple of 8 bytes, so the data starts aligned (as the reference writer does).
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const out = Buffer.alloc(8 + json.length + offset);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  let at = 8 + json.length;
  for (const tensor of tensors) {
    const bytes = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
    bytes.copy(out, at);
    at += bytes.length;
  }
  return out;
}

/** Decodes a safetensors buffer; `where` names the file in errors. */
export function decodeSafetensors(bytes: Uint8Array, where = 'safetensors file'): SafetensorsFile {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => {
    throw new FormatError(`${where}: ${why}`);
  };
  if (buffer.length < 8) fail(`${buffer.length} bytes is too short for a safetensors file (8-byte header length first); is it one?`);
  const headerLength = buffer.readBigUInt64LE(0);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, buffer.length - 8))) {
    fail(`the header length field says ${headerLength} bytes, but the file has ${buffer.length - 8} after it (or it exceeds 100 MB): not a safetensors file, or truncated`);
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(buffer.subarray(8, dataStart).toString('utf8'));
  } catch {
    fail('the header is not valid JSON: not a safetensors file, or corrupt');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object');
  const entries = Object.entries(header as Record<string, unknown>);
  const dataBytes = buffer.length - dataStart;
  let metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number; dtype: ReadableDtype; shape: number[] }[] = [];
  for (const [name, value] of entries) {
    if (name === '__metadata__') {
      metadata = parseMetadata(value, fail);
      continue;
    }
    const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof entry !== 'object' || entry === null) fail(`tensor ${name}: its header entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string' || !KNOWN_DTYPES.has(dtype)) fail(`tensor ${name}: unknown dtype ${JSON.stringify(dtype)}`);
    if (!(dtype as string in READABLE)) fail(`tensor ${name}: dtype ${dtype as string} is not supported (pipetrain reads F32, F16 and BF16); convert the file to float32 first`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor ${name}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) fail(`tensor ${name}: data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
    const [begin, end] = offsets as [number, number];
    const width = READABLE[dtype as ReadableDtype];
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end - begin !== elements * width) fail(`tensor ${name}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but shape [${(shape as number[]).join(', ')}] of ${dtype as string} needs ${elements * width}`);
    if (end > dataBytes) fail(`tensor ${name}: data_offsets end at byte ${end}, past the ${dataBytes} data bytes: the file is truncated`);
    spans.push({ name, begin, end, dtype: dtype as ReadableDtype, shape: shape as number[] });
  }
  // Every data byte belongs to exactly one tensor: no holes, no overlaps (as the reference reader checks).
  const sorted = [...spans].sort((a, b) => a.begin - b.begin);
  let expected = 0;
  for (const span of sorted) {
    if (span.begin !== expected) fail(`tensor ${span.name}: starts at data byte ${span.begin}, expected ${expected} (tensors overlap or leave a hole)`);
    expected = span.end;
  }
  if (expected !== dataBytes) fail(`the tensors cover ${expected} of the ${dataBytes} data bytes: trailing bytes`);
  const tensors = spans.map((span) => ({ name: span.name, shape: span.shape, data: toFloat32(buffer.subarray(dataStart + span.begin, dataStart + span.end), span.dtype) }));
  return { tensors, metadata };
}

export async function readSafetensors(file: string): Promise<SafetensorsFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FormatError(`${file}: ${code === 'ENOENT' ? 'missing' : `unreadable (${code})`}`);
  }
  return decodeSafetensors(bytes, file);
}

function parseMetadata(value: unknown, fail: (why: string) => never): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('__metadata__ is not an object');
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') fail(`__metadata__.${key} is not a string`);
    out[key] = v as string;
  }
  return out;
}

/**
 * Copies the values out (into a fresh, aligned buffer: the span may start at any byte), widening
 * half precisions exactly. Little-endian, like every machine tfjs runs on.
 */
function toFloat32(bytes: Buffer, dtype: ReadableDtype): Float32Array {
  const aligned = new Uint8Array(bytes).buffer;
  if (dtype === 'F32') return new Float32Array(aligned);
  const halves = new Uint16Array(aligned);
  const out = new Float32Array(halves.length);
  const words = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) {
    if (dtype === 'BF16') words[i] = halves[i]! << 16;
    else out[i] = float16ToFloat32(halves[i]!);
  }
  return out;
}

function float16ToFloat32(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >> 10) & 0x1f;
  const fraction = half & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
