// Step 1 of the setup: the TensorFlow libraries and headers in the cache, from the pinned wheel.
// Cached: a manifest written last says the folder is complete; a later run checks it and stops.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statfsSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TENSORFLOW_LIBRARIES, TENSORFLOW_VERSION, type NativeVariant } from '../tf/native-layout.ts';
import { runCommand } from './run-command.ts';
import { SetupError } from './setup-error.ts';
import { formatBytes, type SetupReport } from './setup-report.ts';
import { extractMembers, listWheel, selectionProblem, selectWheelMembers } from './wheel-extract.ts';
import { checkPip, downloadWheel, sha256File, wheelPlatformProblem, WHEELS } from './wheel.ts';

export const LIBRARIES_MANIFEST = 'libraries.json';

export interface LibrariesManifest {
  tensorflowVersion: string;
  variant: NativeVariant;
  wheel: string;
  wheelSha256: string;
  stripped: boolean;
  /** Bytes of each library after stripping. */
  libraries: Record<string, number>;
  headers: number;
  createdAt: string;
}

export interface LibrariesOptions {
  variant: NativeVariant;
  variantDir: string;
  python: string;
  /** A wheel file downloaded elsewhere; otherwise pip downloads it. */
  wheel?: string;
  keepWheel: boolean;
  force: boolean;
}

export interface Libraries {
  libDir: string;
  includeDir: string;
  manifest: LibrariesManifest;
}

export async function ensureLibraries(options: LibrariesOptions, report: SetupReport): Promise<Libraries> {
  const libDir = join(options.variantDir, 'lib');
  const includeDir = join(options.variantDir, 'include');
  const cached = options.force ? undefined : readCompleteManifest(options.variantDir);
  if (cached) {
    const bytes = Object.values(cached.libraries).reduce((a, b) => a + b, 0);
    report.step('libraries', `cached: ${Object.keys(cached.libraries).join(', ')} (${formatBytes(bytes)}), ${cached.headers} headers in ${options.variantDir}`);
    return { libDir, includeDir, manifest: cached };
  }
  const spec = WHEELS[options.variant];
  const wheel = await obtainWheel(options, report);
  try {
    let started = performance.now();
    const members = selectWheelMembers(await listWheel(options.python, wheel));
    const problem = selectionProblem(members);
    if (problem) throw new SetupError(`${wheel} is not a usable TensorFlow wheel: ${problem}`, `use ${spec.filename}`);
    const staging = join(options.variantDir, `.staging-${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    await extractMembers(options.python, wheel, members, staging);
    const headers = members.filter((m) => m.destination.startsWith('include/')).length;
    const unpacked = members.filter((m) => m.destination.startsWith('lib/')).reduce((sum, m) => sum + m.bytes, 0);
    report.step('unpack', `${TENSORFLOW_LIBRARIES.join(', ')} (${formatBytes(unpacked)}) and ${headers} headers`, started);
    started = performance.now();
    const stripped = await stripLibraries(join(staging, 'lib'), report);
    const libraries = Object.fromEntries(TENSORFLOW_LIBRARIES.map((lib) => [lib, statSync(join(staging, 'lib', lib)).size]));
    if (stripped) report.step('strip', `--strip-unneeded: ${formatBytes(unpacked)} → ${formatBytes(Object.values(libraries).reduce((a, b) => a + b, 0))}`, started);
    // The link-time names node-gyp's `-ltensorflow -ltensorflow_framework` look for.
    symlinkSync('libtensorflow_cc.so.2', join(staging, 'lib', 'libtensorflow.so'));
    symlinkSync('libtensorflow_framework.so.2', join(staging, 'lib', 'libtensorflow_framework.so'));
    for (const [from, to] of [[join(staging, 'lib'), libDir], [join(staging, 'include'), includeDir]] as const) {
      rmSync(to, { recursive: true, force: true });
      renameSync(from, to);
    }
    rmSync(staging, { recursive: true, force: true });
    const manifest: LibrariesManifest = {
      tensorflowVersion: TENSORFLOW_VERSION, variant: options.variant, wheel: spec.filename, wheelSha256: spec.sha256,
      stripped, libraries, headers, createdAt: new Date().toISOString(),
    };
    writeFileSync(join(options.variantDir, LIBRARIES_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    return { libDir, includeDir, manifest };
  } finally {
    if (!options.wheel && !options.keepWheel) rmSync(wheel, { force: true });
  }
}

/** The manifest, when every library it lists is there with the size it recorded. */
export function readCompleteManifest(variantDir: string): LibrariesManifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(variantDir, LIBRARIES_MANIFEST), 'utf8')) as LibrariesManifest;
    if (manifest.tensorflowVersion !== TENSORFLOW_VERSION) return undefined;
    const complete = Object.entries(manifest.libraries).every(([lib, bytes]) => statSync(join(variantDir, 'lib', lib)).size === bytes);
    return complete && existsSync(join(variantDir, 'include', 'tensorflow', 'c', 'eager', 'c_api.h')) ? manifest : undefined;
  } catch {
    return undefined;
  }
}

async function obtainWheel(options: LibrariesOptions, report: SetupReport): Promise<string> {
  const spec = WHEELS[options.variant];
  const started = performance.now();
  if (options.wheel) {
    if (!existsSync(options.wheel)) throw new SetupError(`--wheel ${options.wheel}: no such file`, `pass the path of ${spec.filename}`);
    checkPlatform(options.wheel, spec.filename);
  } else {
    await checkPip(options.python);
    const dir = join(options.variantDir, 'wheel');
    mkdirSync(dir, { recursive: true });
    checkFreeSpace(options.variantDir, (existsSync(join(dir, spec.filename)) ? 0 : spec.wheelBytes) + spec.unpackedBytes);
    if (!existsSync(join(dir, spec.filename))) {
      await downloadWheel(spec, dir, options.python);
      report.step('wheel', `downloaded ${spec.filename} (${formatBytes(statSync(join(dir, spec.filename)).size)}) with pip`, started);
    }
  }
  const wheel = options.wheel ?? join(options.variantDir, 'wheel', spec.filename);
  const hashStarted = performance.now();
  const sha256 = await sha256File(wheel);
  if (sha256 !== spec.sha256) {
    if (!options.wheel) rmSync(wheel, { force: true }); // our download: do not reuse it next time
    throw new SetupError(`${wheel} is not the pinned ${spec.requirement} wheel (sha256 ${sha256.slice(0, 12)}…, expected ${spec.sha256.slice(0, 12)}…)`, `delete it and run the setup again, or pass the wheel PyPI serves as ${spec.filename}`);
  }
  report.step('wheel', `${options.wheel ? 'given' : 'using'} ${wheel} (${formatBytes(statSync(wheel).size)}), sha256 verified`, hashStarted);
  return wheel;
}

function checkPlatform(wheel: string, expected: string): void {
  const problem = wheelPlatformProblem(wheel, process.platform, process.arch) ?? (wheel.endsWith(expected) ? undefined : `${wheel} is not ${expected}`);
  if (problem) throw new SetupError(problem, `pass the manylinux x86_64 wheel ${expected}, or leave out --wheel to download it`);
}

function checkFreeSpace(dir: string, neededBytes: number): void {
  const stats = statfsSync(dir);
  const free = stats.bavail * stats.bsize;
  if (free < neededBytes) {
    throw new SetupError(`${dir} has ${formatBytes(free)} free; the wheel and its unpacked libraries need ${formatBytes(neededBytes)}`, 'free disk space, or set XDG_CACHE_HOME (or --cache-dir) to a larger disk');
  }
}

/** strip --strip-unneeded drops ≈ 30 % (symbols the dynamic linker does not need). */
async function stripLibraries(libDir: string, report: SetupReport): Promise<boolean> {
  const files = TENSORFLOW_LIBRARIES.map((lib) => join(libDir, lib));
  const result = await runCommand('strip', ['--strip-unneeded', ...files]);
  if (result.missing) {
    report.note('strip not found (Debian: apt-get install binutils): the libraries stay unstripped, ≈ 30 % larger');
    return false;
  }
  if (result.code !== 0) throw new SetupError(`strip failed on the TensorFlow libraries (${result.stderr.trim()})`, 'check free disk space, then run the setup again');
  return true;
}
