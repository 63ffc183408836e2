// The file checks behind `auto`, validation and the equivalence tests' skip: each broken state of
// an installation gets its own kind and a fix. Package trees are built in a temp folder.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BindingStamp } from './native-layout.ts';
import { describeNativeProblem, elfMachine, probeNative, type ProbeOptions } from './native-probe.ts';

const root = mkdtempSync(join(tmpdir(), 'pipetrain-probe-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** An ELF header for `machine` (62 = x86-64, 183 = aarch64): enough for elfMachine. */
function elf(machine: number): Buffer {
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2; // 64-bit
  header[5] = 1; // little-endian
  header.writeUInt16LE(machine, 18);
  return header;
}

function stamp(overrides: Partial<BindingStamp> = {}): BindingStamp {
  return {
    variant: 'cpu', tensorflowVersion: '2.15.1', tfjsNodeVersion: '4.22.0', napiVersion: 8, nodeVersion: 'v24.22.3',
    platform: 'linux', arch: 'x64', libraries: ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'], builtAt: '', ...overrides,
  };
}

let trees = 0;
/** A tfjs-node package folder in one of the states an installation can be in. */
function packageTree(state: { binding?: Buffer; stamp?: BindingStamp; libraries?: 'present' | 'dangling' | 'absent' }): string {
  const dir = join(root, `pkg${trees++}`);
  mkdirSync(join(dir, 'lib', 'napi-v8'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', binary: { napi_versions: [3, 4, 5, 6, 7, 8] } }));
  if (state.binding) writeFileSync(join(dir, 'lib', 'napi-v8', 'tfjs_binding.node'), state.binding);
  if (state.stamp) writeFileSync(join(dir, 'lib', 'napi-v8', 'pipetrain-binding.json'), JSON.stringify(state.stamp));
  mkdirSync(join(dir, 'deps'));
  if (state.libraries === 'present') {
    mkdirSync(join(dir, 'deps', 'lib'));
    for (const lib of stamp().libraries) writeFileSync(join(dir, 'deps', 'lib', lib), elf(62));
  } else if (state.libraries === 'dangling') {
    symlinkSync(join(root, 'removed-cache', 'lib'), join(dir, 'deps', 'lib'));
  }
  return dir;
}

const runtime = (dir: string | undefined, extra: ProbeOptions = {}): ProbeOptions => ({ resolvePackageDir: () => dir, napi: 10, platform: 'linux', arch: 'x64', ...extra });

test('a complete installation is ready', () => {
  const dir = packageTree({ binding: elf(62), stamp: stamp(), libraries: 'present' });
  const status = probeNative('tensorflow', runtime(dir));
  assert.equal(status.ok, true);
  assert.equal(status.ok && status.bindingPath, join(dir, 'lib', 'napi-v8', 'tfjs_binding.node'));
});

test('each broken state is named, with the setup command as the fix', () => {
  const states: Array<[string, string | undefined, ProbeOptions, string, RegExp]> = [
    ['not installed (npm ci removed it)', undefined, {}, 'not-installed', /@tensorflow\/tfjs-node is not installed/],
    ['no binding', packageTree({ libraries: 'present' }), {}, 'binding-absent', /binding not built/],
    ['cache deleted under the link', packageTree({ binding: elf(62), stamp: stamp(), libraries: 'dangling' }), {}, 'library-missing', /libtensorflow_cc\.so\.2, libtensorflow_framework\.so\.2/],
    ['built for a newer N-API', packageTree({ binding: elf(62), stamp: stamp({ napiVersion: 11 }), libraries: 'present' }), {}, 'wrong-abi', /N-API 11 .*this Node has N-API 10/],
    ['built on another architecture', packageTree({ binding: elf(62), stamp: stamp({ arch: 'arm64' }), libraries: 'present' }), {}, 'wrong-abi', /linux-arm64, this is linux-x64/],
    ['an aarch64 binary without a stamp', packageTree({ binding: elf(183), libraries: 'present' }), {}, 'wrong-abi', /machine 183/],
    ['a Node too old for any binding', packageTree({ binding: elf(62) }), { napi: 2 }, 'wrong-abi', /N-API 2/],
  ];
  for (const [what, dir, extra, kind, reason] of states) {
    const status = probeNative('tensorflow', runtime(dir, extra));
    assert.equal(status.ok, false, what);
    if (status.ok) continue;
    assert.equal(status.kind, kind, what);
    assert.match(status.reason, reason, what);
    assert.match(describeNativeProblem(status), /^tensorflow unavailable: .+; (run npm run setup:tensorflow|use Node\.js 20 or newer)$/, what);
  }
});

test('tensorflow-gpu: auto requires an NVIDIA device; the fix names the gpu variant', () => {
  const dir = packageTree({ binding: elf(62), stamp: stamp({ variant: 'gpu' }), libraries: 'present' });
  const noDevice = probeNative('tensorflow-gpu', runtime(dir, { requireGpuDevice: true, hasGpuDevice: () => false }));
  assert.equal(!noDevice.ok && noDevice.kind, 'no-gpu');
  assert.equal(probeNative('tensorflow-gpu', runtime(dir, { requireGpuDevice: true, hasGpuDevice: () => true })).ok, true);
  const absent = probeNative('tensorflow-gpu', runtime(undefined));
  assert.equal(!absent.ok && absent.fix, 'run npm run setup:tensorflow -- --variant gpu');
});

test('elfMachine reads the e_machine field and rejects files that are not ELF', () => {
  const path = join(root, 'not-elf');
  writeFileSync(path, 'just some text, long enough');
  assert.equal(elfMachine(process.execPath), process.arch === 'x64' ? 62 : elfMachine(process.execPath));
  assert.equal(elfMachine(path), undefined);
  assert.equal(elfMachine(join(root, 'missing')), undefined);
});
