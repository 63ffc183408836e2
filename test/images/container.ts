// Runs one command in an exported image (test/cluster/image-store.ts) as a container runtime would:
// the image's root file system (read-only unless asked), a private /tmp, /proc of its own PID
// namespace, the host's /dev, the image's Env and WorkingDir, and its User (or the one given), with
// Kubernetes' rule for the argv: command replaces the Entrypoint, args replace the Cmd.
// Needs root (mount and PID namespaces, chroot); the mounts vanish with the namespace.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageArgv, resolveUser } from '../cluster/image-config.ts';
import type { StoredImage } from '../cluster/image-store.ts';

export interface Bind {
  host: string;
  /** Absolute path in the container; it must be under /tmp or exist in the image. */
  container: string;
  readOnly?: boolean;
}

export interface RunOptions {
  command?: string[];
  args?: string[];
  /** `uid[:gid]` (numbers or names of the image's /etc/passwd and /etc/group); default the image's User. */
  user?: string;
  env?: Record<string, string>;
  binds?: Bind[];
  /** Default true, as the chart's pods run. */
  readOnlyRoot?: boolean;
  timeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/** The shell script run inside the new mount and PID namespaces: mounts, then chroot as the user. */
function containerScript(mountPoint: string, image: StoredImage, options: RunOptions, argv: string[]): string {
  const rootfs = image.rootfs!;
  const { uid, gid } = resolveUser(rootfs, options.user ?? image.config.User);
  const env = [...(image.config.Env ?? []), ...Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`)];
  const inRoot = (path: string): string => quote(join(mountPoint, path));
  const lines = [
    'set -eu',
    `mount --bind ${quote(rootfs)} ${quote(mountPoint)}`,
    ...(options.readOnlyRoot === false ? [] : [`mount -o remount,bind,ro ${quote(mountPoint)}`]),
    `mount -t proc proc ${inRoot('proc')}`,
    `mount --rbind /dev ${inRoot('dev')}`,
    `mount -t tmpfs -o mode=1777 tmpfs ${inRoot('tmp')}`,
  ];
  for (const bind of options.binds ?? []) {
    if (bind.container.startsWith('/tmp/')) lines.push(`mkdir -p ${inRoot(bind.container)}`);
    lines.push(`mount --bind ${quote(bind.host)} ${inRoot(bind.container)}`);
    if (bind.readOnly) lines.push(`mount -o remount,bind,ro ${inRoot(bind.container)}`);
  }
  const workdir = image.config.WorkingDir || '/';
  lines.push(`exec chroot --userspec=${uid}:${gid} --groups=${gid} ${quote(mountPoint)} /usr/bin/env -i -C ${quote(workdir)} ${env.map(quote).join(' ')} ${argv.map(quote).join(' ')}`);
  return lines.join('\n');
}

/** Runs the container to its end; stdout and stderr are captured. */
export function runInImage(image: StoredImage, options: RunOptions = {}): Promise<RunResult> {
  if (!image.rootfs) throw new Error('runInImage needs an image with a root file system');
  const argv = imageArgv(image.config, options.command, options.args);
  if (argv.length === 0) throw new Error('the image has no Entrypoint or Cmd and no command was given');
  const dir = mkdtempSync(join(tmpdir(), 'pipetrain-container-'));
  const script = containerScript(dir, image, options, argv);
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['--mount', '--pid', '--fork', '--propagation', 'private', 'sh', '-c', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // The host's tools only; the container's environment is set by env -i inside.
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      // Never recursive: were the bind mount still there, that would delete the image.
      rmdirSync(dir);
      resolve({ code, stdout, stderr });
    });
  });
}
