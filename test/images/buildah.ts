// Runs buildah on the project's own image storage (under the cache: nothing in the machine's
// /var/lib/containers, nothing shared with other tools), and checks that the tools are there.
// Storage driver: the kernel's overlay when it has one (layers share files, so every layer of every
// target stays cached for the next build), else vfs (full copies: slower, much more disk).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { imagesRoot } from '../cluster/image-store.ts';

/** The Debian packages the build needs, as one install line. */
export const INSTALL_LINE = 'apt-get install -y --no-install-recommends buildah mmdebstrap';

/** `overlay` when the kernel offers it (PIPETRAIN_IMAGES_STORAGE_DRIVER overrides), else `vfs`. */
export function storageDriver(): 'overlay' | 'vfs' {
  const forced = process.env.PIPETRAIN_IMAGES_STORAGE_DRIVER;
  if (forced === 'overlay' || forced === 'vfs') return forced;
  const filesystems = existsSync('/proc/filesystems') ? readFileSync('/proc/filesystems', 'utf8') : '';
  return /\toverlay$/m.test(filesystems) ? 'overlay' : 'vfs';
}

/** One storage folder per driver: buildah cannot switch drivers on existing storage. */
export const storageRoot = (): string => join(imagesRoot(), `storage-${storageDriver()}`);

/** Global flags: our storage and driver; chroot isolation (no runc or user namespaces needed). */
function globalFlags(): string[] {
  return ['--root', storageRoot(), '--runroot', join(imagesRoot(), `run-${storageDriver()}`), '--storage-driver', storageDriver()];
}

const buildahEnv = (): NodeJS.ProcessEnv => ({ ...process.env, BUILDAH_ISOLATION: 'chroot', STORAGE_DRIVER: storageDriver() });

export interface RunOptions {
  /** Append stdout and stderr to this file instead of capturing them. */
  logFile?: string;
  input?: string;
  cwd?: string;
}

/** Runs a command; resolves with its stdout (trimmed). On failure the error names the command and shows the end of its output. */
export function run(cmd: string, args: string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    let logFd: number | undefined;
    if (options.logFile) {
      mkdirSync(dirname(options.logFile), { recursive: true });
      logFd = openSync(options.logFile, 'a');
    }
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: cmd === 'buildah' ? buildahEnv() : process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', logFd ?? 'pipe', logFd ?? 'pipe'],
    });
    if (logFd !== undefined) closeSync(logFd);
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdin?.end(options.input);
    child.on('error', (error) => reject(new Error(`${cmd}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(out.trim());
      const tail = options.logFile ? readFileSync(options.logFile, 'utf8') : `${err}\n${out}`;
      const lines = tail.trimEnd().split('\n').slice(-25).join('\n');
      reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`})${options.logFile ? `; log: ${options.logFile}` : ''}\n${lines}`));
    });
  });
}

export function buildah(args: string[], options: RunOptions = {}): Promise<string> {
  return run('buildah', [...globalFlags(), ...args], options);
}

/** Why images cannot be built here (with the fix), or undefined when they can. */
export async function missingTools(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'building the images needs root (buildah with chroot isolation, mmdebstrap); run as root';
  const absent: string[] = [];
  for (const tool of ['buildah', 'mmdebstrap']) {
    await run('sh', ['-c', `command -v ${tool}`]).catch(() => absent.push(tool));
  }
  return absent.length ? `${absent.join(' and ')} not found: install with \`${INSTALL_LINE}\` (Debian bookworm)` : undefined;
}
