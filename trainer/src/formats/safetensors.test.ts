import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runPython } from '../../../test/support/python.ts';
import { FormatError } from './format-error.ts';
import { decodeSafetensors, encodeSafetensors, readSafetensors } from './safetensors.ts';

const tensors = [
  { name: 'h.0.attn.c_attn.weight', shape: [2, 3], data: Float32Array.from([1, -2.5, 3e-8, Math.PI, -0, 65504]) },
  { name: 'wte.weight', shape: [3], data: Float32Array.from([0.1, 0.2, 0.3]) },
  { name: 'scalar', shape: [], data: Float32Array.from([7]) },
];

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'safetensors-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a file we write is read by Python safetensors with the same values, names and metadata', async (t) => {
  const file = join(await tempDir(t), 'ours.safetensors');
  await writeFile(file, encodeSafetensors(tensors, { format: 'pt', job: 'gpt' }));
  const out = await runPython(
    `import sys, json
from safetensors import safe_open
with safe_open(sys.argv[1], framework="numpy") as f:
    print(json.dumps({"metadata": f.metadata(), "tensors": {k: {"shape": list(f.get_tensor(k).shape), "dtype": str(f.get_tensor(k).dtype), "bits": f.get_tensor(k).view("uint32").ravel().tolist()} for k in f.keys()}}))`,
    [file],
  );
  const read = JSON.parse(out) as { metadata: Record<string, string>; tensors: Record<string, { shape: number[]; dtype: string; bits: number[] }> };
  assert.deepEqual(read.metadata, { format: 'pt', job: 'gpt' });
  for (const tensor of tensors) {
    const theirs = read.tensors[tensor.name]!;
    assert.deepEqual(theirs.shape, tensor.shape);
    assert.equal(theirs.dtype, 'float32');
    assert.deepEqual(theirs.bits, [...new Uint32Array(tensor.data.buffer)], `${tensor.name} bit for bit`);
  }
});

test('a file Python safetensors writes (F32, F16) is read exactly', async (t) => {
  const file = join(await tempDir(t), 'theirs.safetensors');
  await runPython(
    `import sys, numpy as np
from safetensors.numpy import save_file
a = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
h = np.array([1.5, -2.0, 65504, 2**-14, 2**-24, 0.0], dtype=np.float16)
save_file({"a": a, "h": h}, sys.argv[1], metadata={"source": "numpy"})`,
    [file],
  );
  const read = await readSafetensors(file);
  assert.deepEqual(read.metadata, { source: 'numpy' });
  const a = read.tensors.find((x) => x.name === 'a')!;
  assert.deepEqual(a.shape, [3, 4]);
  assert.deepEqual([...a.data], Array.from({ length: 12 }, (_, i) => Math.fround(Math.fround(i) / 7)));
  const h = read.tensors.find((x) => x.name === 'h')!;
  assert.deepEqual([...h.data], [1.5, -2, 65504, 2 ** -14, 2 ** -24, 0], 'normal and subnormal halves widen exactly');
});

test('bfloat16 widens to float32 by its top 16 bits', () => {
  const header = Buffer.from(JSON.stringify({ b: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } }));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  const data = Buffer.from(Uint16Array.from([0x3fc0, 0xc000]).buffer); // 1.5, -2
  assert.deepEqual([...decodeSafetensors(Buffer.concat([length, header, data])).tensors[0]!.data], [1.5, -2]);
});

test('round trip: decode(encode(x)) is x, bit for bit', () => {
  const decoded = decodeSafetensors(encodeSafetensors(tensors));
  assert.deepEqual(decoded.tensors.map((x) => [x.name, x.shape, [...new Uint32Array(x.data.buffer)]]), tensors.map((x) => [x.name, x.shape, [...new Uint32Array(x.data.buffer)]]));
});

test('a broken header, a lying length, a hole, an unsupported dtype and truncation get errors naming the file', async (t) => {
  const good = encodeSafetensors(tensors);
  const withHeader = (header: object, data = Buffer.alloc(0)) => {
    const json = Buffer.from(JSON.stringify(header));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([length, json, data]);
  };
  const cases: [string, Buffer, RegExp][] = [
    ['short', Buffer.from([1, 2, 3]), /too short/],
    ['lying length', Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]), Buffer.alloc(16)]), /header length field says 4294967295 bytes/],
    ['not json', Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{{{{')]), /not valid JSON/],
    ['I64', withHeader({ x: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, Buffer.alloc(8)), /dtype I64 is not supported \(pipetrain reads F32, F16 and BF16\)/],
    ['hole', withHeader({ x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, Buffer.alloc(8)), /starts at data byte 4, expected 0/],
    ['size', withHeader({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, Buffer.alloc(4)), /needs 8/],
    ['truncated', good.subarray(0, good.length - 4), /truncated/],
  ];
  for (const [name, bytes, expected] of cases) {
    assert.throws(() => decodeSafetensors(bytes, 'model.safetensors'), (error: Error) => error instanceof FormatError && error.message.startsWith('model.safetensors: ') && expected.test(error.message), name);
  }
  const dir = await tempDir(t);
  await assert.rejects(readSafetensors(join(dir, 'none.safetensors')), /none\.safetensors: missing/);
});
