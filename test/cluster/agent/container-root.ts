// How a container's process gets its own root: an overlay of the host's / (writes land in the pod's
// directory), with /proc, /sys, /dev and this checkout bound in, a private /run, the pod's resolv.conf
// and hosts, and the volumes bind-mounted at their mountPaths. Nothing is created on the host outside
// the state directory. The result is a shell script run inside the pod's network namespace.
import type * as k8s from '@kubernetes/client-node';
import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { shq } from '../util.ts';
import { REPO_ROOT, type PodRun } from './types.ts';

/** Resolves symlinks in `path` as seen from the host's root (the pod's overlay root starts identical). */
export function resolveInRoot(path: string, depth = 0): string {
  const parts = normalize(`/${path}`).split('/').filter(Boolean);
  let resolved = '';
  for (let i = 0; i < parts.length; i++) {
    const next = `${resolved}/${parts[i]}`;
    let link: string | undefined;
    try {
      if (lstatSync(next).isSymbolicLink()) link = readlinkSync(next);
    } catch {
      return [next, ...parts.slice(i + 1)].join('/');
    }
    if (link !== undefined && depth < 20) {
      const target = link.startsWith('/') ? link : `${resolved}/${link}`;
      return resolveInRoot([target, ...parts.slice(i + 1)].join('/'), depth + 1);
    }
    resolved = next;
  }
  return normalize(resolved || '/');
}

/**
 * The script that mounts the container's root and execs its argv ("$@") there, chrooted, in its
 * working directory. `volumes` maps volume names to host directories. Creates the overlay's folders.
 */
export function containerRootScript(run: PodRun, container: k8s.V1Container, volumes: Map<string, string>): string {
  const root = join(run.dir, 'root');
  const merged = join(root, 'merged');
  for (const d of ['upper', 'work', 'merged']) mkdirSync(join(root, d), { recursive: true });
  const lines = [
    'set -e',
    `hostname ${shq((run.pod.spec?.hostname ?? run.pod.metadata?.name ?? 'pod').slice(0, 63))}`,
    `mount -t overlay overlay -o lowerdir=/,upperdir=${join(root, 'upper')},workdir=${join(root, 'work')} ${shq(merged)}`,
    ...['/proc', '/sys', '/dev'].map((d) => `mount --rbind ${d} ${shq(merged + d)}`),
    `mount -t tmpfs -o mode=755 tmpfs ${shq(merged + resolveInRoot('/run'))}`,
  ];
  // `ip netns exec` bound the pod's resolv.conf and hosts over the host's: carry them into the new root.
  for (const f of ['/etc/resolv.conf', '/etc/hosts']) {
    const target = merged + resolveInRoot(f);
    lines.push(`[ -e ${shq(target)} ] || touch ${shq(target)}`, `mount --bind ${f} ${shq(target)}`);
  }
  const binds: { src: string; target: string; readOnly: boolean }[] = [{ src: REPO_ROOT, target: REPO_ROOT, readOnly: false }];
  for (const mount of container.volumeMounts ?? []) {
    const source = volumes.get(mount.name);
    if (source === undefined) throw new Error(`volumeMount ${mount.name} has no volume`);
    const src = mount.subPath ? join(source, mount.subPath) : source;
    if (mount.subPath) mkdirSync(src, { recursive: true });
    binds.push({ src, target: resolveInRoot(mount.mountPath), readOnly: !!mount.readOnly });
  }
  // Parents before children, so a volume inside another volume's mountPath stays visible.
  binds.sort((a, b) => a.target.split('/').length - b.target.split('/').length);
  for (const bind of binds) {
    const target = shq(merged + bind.target);
    lines.push(`mkdir -p ${target}`, `mount --rbind ${shq(bind.src)} ${target}`);
    if (bind.readOnly) lines.push(`mount -o remount,bind,ro ${target}`);
  }
  const workingDir = container.workingDir ?? REPO_ROOT;
  lines.push(`mkdir -p ${shq(merged + resolveInRoot(workingDir))}`);
  lines.push(`exec chroot ${shq(merged)} sh -c 'cd "$0" && exec "$@"' ${shq(workingDir)} "$@"`);
  return lines.join('\n');
}
