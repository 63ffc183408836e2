// Is the native TensorFlow backend usable here? Answered from files alone, without loading the
// binding: loading is not free (≈ 0.3 s, 200+ MB) and cannot be undone in a process, and
// `pipetrain validate` must answer without it. Each problem comes with its one-line fix.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import {
  type BindingStamp, napiBuildVersion, nativePackageOf, type NativeBackendChoice, packagePaths,
  setupCommandFor, VARIANT_OF,
} from './native-layout.ts';

export type NativeProblemKind = 'not-installed' | 'binding-absent' | 'library-missing' | 'wrong-abi' | 'no-gpu';

export interface NativeReady {
  ok: true;
  choice: NativeBackendChoice;
  packageName: string;
  packageDir: string;
  bindingPath: string;
  /** Absent for a binding that was not built by our setup (e.g. tfjs-node's own download). */
  stamp?: BindingStamp;
}

export interface NativeProblem {
  ok: false;
  choice: NativeBackendChoice;
  kind: NativeProblemKind;
  /** What is wrong, in a few words, e.g. "binding not built". */
  reason: string;
  /** What to do, imperative, e.g. "run npm run setup:tensorflow". */
  fix: string;
}

export type NativeStatus = NativeReady | NativeProblem;

export interface ProbeOptions {
  /** Finds an installed package's folder; default: Node's resolution from this file. */
  resolvePackageDir?: (name: string) => string | undefined;
  /** N-API version of the running Node; default process.versions.napi. */
  napi?: number;
  platform?: string;
  arch?: string;
  /** Require an NVIDIA device for tensorflow-gpu (auto does: without one it would run on the CPU). */
  requireGpuDevice?: boolean;
  hasGpuDevice?: () => boolean;
}

const require = createRequire(import.meta.url);

export function probeNative(choice: NativeBackendChoice, options: ProbeOptions = {}): NativeStatus {
  const variant = VARIANT_OF[choice];
  const packageName = nativePackageOf(variant);
  const fix = `run ${setupCommandFor(variant)}`;
  const problem = (kind: NativeProblemKind, reason: string, fixText = fix): NativeProblem => ({ ok: false, choice, kind, reason, fix: fixText });
  if (choice === 'tensorflow-gpu' && options.requireGpuDevice && !(options.hasGpuDevice ?? hasNvidiaDevice)()) {
    return problem('no-gpu', 'no NVIDIA GPU device (/dev/nvidia0)', "use a machine with an NVIDIA GPU, or backend 'tensorflow'");
  }
  const packageDir = (options.resolvePackageDir ?? resolveInstalledPackage)(packageName);
  if (!packageDir) return problem('not-installed', `${packageName} is not installed`);
  const manifest = readJson(`${packageDir}/package.json`) as { binary?: { napi_versions?: number[] } } | undefined;
  const napi = options.napi ?? Number(process.versions.napi);
  const buildVersion = napiBuildVersion(manifest?.binary?.napi_versions ?? [], napi);
  if (buildVersion === undefined) {
    return problem('wrong-abi', `this Node (N-API ${napi}) is older than any binding ${packageName} supports`, 'use Node.js 20 or newer');
  }
  const paths = packagePaths(packageDir, buildVersion);
  if (!existsSync(paths.binding)) return problem('binding-absent', 'binding not built (npm ci removes it)');
  const stamp = readJson(paths.stamp) as BindingStamp | undefined;
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const abi = abiMismatch(paths.binding, stamp, { napi, platform, arch });
  if (abi) return problem('wrong-abi', abi);
  const missing = (stamp?.libraries ?? []).filter((library) => !existsSync(`${paths.libDir}/${library}`));
  if (missing.length > 0) return problem('library-missing', `library missing: ${missing.join(', ')} (the cache was removed?)`);
  return { ok: true, choice, packageName, packageDir, bindingPath: paths.binding, stamp };
}

/** One line for logs and validation errors: the reason and the fix. */
export function describeNativeProblem(problem: NativeProblem): string {
  return `${problem.choice} unavailable: ${problem.reason}; ${problem.fix}`;
}

function abiMismatch(binding: string, stamp: BindingStamp | undefined, runtime: { napi: number; platform: string; arch: string }): string | undefined {
  if (stamp && (stamp.platform !== runtime.platform || stamp.arch !== runtime.arch)) {
    return `binding built for ${stamp.platform}-${stamp.arch}, this is ${runtime.platform}-${runtime.arch}`;
  }
  if (stamp && stamp.napiVersion > runtime.napi) {
    return `binding built for N-API ${stamp.napiVersion} (Node ${stamp.nodeVersion}), this Node has N-API ${runtime.napi}`;
  }
  const machine = elfMachine(binding);
  const expected = ELF_MACHINES[runtime.arch];
  if (runtime.platform === 'linux' && machine !== undefined && expected !== undefined && machine !== expected) {
    return `binding is an ELF file for machine ${machine}, this is ${runtime.arch}`;
  }
  return undefined;
}

/** ELF e_machine values of the architectures we may meet. */
const ELF_MACHINES: Record<string, number> = { x64: 62, arm64: 183, ia32: 3, arm: 40, ppc64: 21, s390x: 22 };

/** e_machine of an ELF file, or undefined when it is not one (or unreadable). */
export function elfMachine(path: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const header = Buffer.alloc(20);
    if (readSync(fd, header, 0, 20, 0) < 20) return undefined;
    if (header.readUInt32BE(0) !== 0x7f454c46) return undefined; // "\x7fELF"
    const littleEndian = header[5] === 1;
    return littleEndian ? header.readUInt16LE(18) : header.readUInt16BE(18);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function hasNvidiaDevice(): boolean {
  try {
    return readdirSync('/dev').some((name) => /^nvidia\d+$/.test(name));
  } catch {
    return false;
  }
}

function resolveInstalledPackage(name: string): string | undefined {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}
