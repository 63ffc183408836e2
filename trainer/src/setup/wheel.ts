// The pinned TensorFlow wheels and how pip fetches them. The wheel is only a container for the two
// C libraries and the C API headers; no Python TensorFlow is ever installed.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { TENSORFLOW_VERSION, type NativeVariant } from '../tf/native-layout.ts';
import { lastLine, runCommand } from './run-command.ts';
import { SetupError } from './setup-error.ts';

export interface WheelSpec {
  /** What pip is asked for. */
  requirement: string;
  filename: string;
  /** sha256 of the file PyPI serves; a different file is refused. */
  sha256: string;
  /** Bytes of the wheel and of its two libraries unpacked, before stripping (for the free-space check). */
  wheelBytes: number;
  unpackedBytes: number;
}

// pip picks wheels for the Python that runs it, and TensorFlow 2.15 has none for Python 3.12+.
// The C libraries do not depend on Python, so we always ask for the CPython 3.11 manylinux wheel.
const PLATFORM_TAG = 'manylinux_2_17_x86_64.manylinux2014_x86_64';
export const PIP_TARGET_ARGS = ['--platform', 'manylinux2014_x86_64', '--python-version', '3.11', '--implementation', 'cp', '--abi', 'cp311'];

export const WHEELS: Record<NativeVariant, WheelSpec> = {
  cpu: {
    requirement: `tensorflow-cpu==${TENSORFLOW_VERSION}`,
    filename: `tensorflow_cpu-${TENSORFLOW_VERSION}-cp311-cp311-${PLATFORM_TAG}.whl`,
    sha256: '54660c074d7241a503e81edfd9f5ef5af88f64051b72e2945f26318c790f2d26',
    wheelBytes: 207_208_420,
    unpackedBytes: 613_776_168,
  },
  // The GPU build: the same two libraries, compiled with CUDA 12 kernels. CUDA and cuDNN are the
  // nvidia-* wheels `tensorflow[and-cuda]` depends on; this download does not include them.
  gpu: {
    requirement: `tensorflow==${TENSORFLOW_VERSION}`,
    filename: `tensorflow-${TENSORFLOW_VERSION}-cp311-cp311-${PLATFORM_TAG}.whl`,
    sha256: 'bb0edd69103c154245c5f209f0507355cc68ba7e4de350084bc31edc562478e4',
    wheelBytes: 475_258_663,
    unpackedBytes: 1_029_821_200,
  },
};

/**
 * Why a wheel file cannot serve this machine, from the platform tag in its name
 * (PEP 427: name-version-python-abi-platform.whl), or undefined when it can.
 */
export function wheelPlatformProblem(filename: string, platform: string, arch: string): string | undefined {
  const base = filename.split('/').at(-1)!;
  const parts = base.replace(/\.whl$/, '').split('-');
  if (!base.endsWith('.whl') || parts.length < 5) return `${base} is not a wheel file (name-version-python-abi-platform.whl)`;
  const tags = parts.at(-1)!.split('.');
  const machine = arch === 'x64' ? 'x86_64' : arch === 'arm64' ? 'aarch64' : arch;
  const fits = platform === 'linux' && tags.some((tag) => /^(manylinux|musllinux|linux)/.test(tag) && tag.endsWith(`_${machine}`));
  return fits ? undefined : `${base} is a wheel for ${tags.join('.')}, not for this ${platform}-${arch} machine`;
}

/** Downloads the pinned wheel into `dir` with pip; returns its path. */
export async function downloadWheel(spec: WheelSpec, dir: string, python: string): Promise<string> {
  const args = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--no-cache-dir', '--progress-bar', 'off', ...PIP_TARGET_ARGS, '-d', dir, spec.requirement];
  const result = await runCommand(python, args);
  if (result.missing) throw noPython(python);
  if (result.code !== 0) throw pipFailure(spec, result.stderr || result.stdout);
  return `${dir}/${spec.filename}`;
}

/** Checks that python and pip are there before anything big happens. */
export async function checkPip(python: string): Promise<void> {
  const result = await runCommand(python, ['-m', 'pip', '--version']);
  if (result.missing) throw noPython(python);
  if (result.code !== 0) {
    throw new SetupError(`${python} has no pip (${lastLine(result.stderr)})`, 'install pip (Debian: apt-get install python3-pip), or pass --wheel FILE with the wheel downloaded elsewhere');
  }
}

function noPython(python: string): SetupError {
  return new SetupError(`${python} not found: pip needs Python to download the TensorFlow wheel`, 'install Python 3 with pip (Debian: apt-get install python3 python3-pip), set PYTHON=<python>, or pass --wheel FILE');
}

/** Classifies pip's failure: the registry cannot be reached, or it has no such wheel. */
export function pipFailure(spec: WheelSpec, output: string): SetupError {
  const elsewhere = `or download ${spec.filename} elsewhere (pip download --no-deps ${spec.requirement}) and pass --wheel FILE`;
  if (/Failed to establish a new connection|Temporary failure in name resolution|Name or service not known|Network is unreachable|Connection refused|timed out|ProxyError|SSLError|Could not fetch URL|ConnectionError|HTTPSConnectionPool/i.test(output)) {
    return new SetupError(`PyPI is unreachable (pip: ${lastLine(output)})`, `check the network or proxy (PIP_INDEX_URL names a mirror), ${elsewhere}`);
  }
  if (/\(from versions: none\)/.test(output)) {
    return new SetupError(`the package index offered no ${spec.requirement.split('==')[0]} at all: it is unreachable, or a mirror without it (pip: ${lastLine(output)})`, `check the network and PIP_INDEX_URL, ${elsewhere}`);
  }
  if (/No matching distribution found|Could not find a version that satisfies/i.test(output)) {
    return new SetupError(`the package index has no ${spec.requirement} wheel for manylinux x86_64 (pip: ${lastLine(output)})`, `use the public PyPI (unset PIP_INDEX_URL), ${elsewhere}`);
  }
  return new SetupError(`pip could not download ${spec.requirement} (pip: ${lastLine(output)})`, `run the pip command by hand to see why, ${elsewhere}`);
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
