// How a container's process gets its own root: an overlay of its image's root file system, or of the
// host's / for test images (writes land in the pod's directory), with /proc, /sys, /dev (and for test
// images this checkout) bound in, a private /run, the pod's resolv.conf
// and hosts, and the volumes bind-mounted at their mountPaths. Nothing is created on the host outside
// the state directory. The result is a shell script run inside the pod's network namespace.
import type * as k8s from '@kubernetes/client-node';
import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { shq } from '../util.ts';
import type { ContainerSetup } from './container-image.ts';
import { REPO_ROOT, type PodRun } from './types.ts';

/**
 * Resolves symlinks in `path` as seen inside `root` (`''`: the host's root, which the pod's overlay
 * root starts identical to; else an image's root file system).
 */
export function resolveInRoot(path: string, root = '', depth = 0): string {
  const parts = normalize(`/${path}`).split('/').filter(Boolean);
  let resolved = '';
  for (let i = 0; i < parts.length; i++) {
    const next = `${resolved}/${parts[i]}`;
    let link: string | undefined;
    try {
      if (lstatSync(root + next).isSymbolicLink()) link = readlinkSync(root + next);
    } catch {
      return [next, ...parts.slice(i + 1)].join('/');
    }
    if (link !== undefined && depth < 20) {
      const target = link.startsWith('/') ? link : `${resolved}/${link}`;
      return resolveInRoot([target, ...parts.slice(i + 1)].join('/'), root, depth + 1);
    }
    resolved = next;
  }
  return normalize(resolved || '/');
}

/**
 * The script that mounts the container's root and execs its argv ("$@") there, chrooted, in its
 * working directory, as its user. The root is an overlay over the image's root file system (or the
 * host's `/` for test images, with the checkout bound in): writes land in the pod's folder, never in
 * the image; with readOnlyRootFilesystem it is remounted read-only once the mounts are in place.
 * `volumes` maps volume names to host directories. Creates the overlay's folders.
 */
export function containerRootScript(run: PodRun, container: k8s.V1Container, volumes: Map<string, string>, setup: ContainerSetup): string {
  const root = join(run.dir, 'root');
  const merged = join(root, 'merged');
  const image = setup.rootfs ?? '';
  const inRoot = (path: string): string => resolveInRoot(path, image);
  for (const d of ['upper', 'work', 'merged']) mkdirSync(join(root, d), { recursive: true });
  const lines = [
    'set -e',
    `hostname ${shq((run.pod.spec?.hostname ?? run.pod.metadata?.name ?? 'pod').slice(0, 63))}`,
    `mount -t overlay overlay -o lowerdir=${shq(setup.rootfs ?? '/')},upperdir=${join(root, 'upper')},workdir=${join(root, 'work')} ${shq(merged)}`,
    ...['/proc', '/sys', '/dev'].flatMap((d) => [`mkdir -p ${shq(merged + d)}`, `mount --rbind ${d} ${shq(merged + d)}`]),
    `mkdir -p ${shq(merged + inRoot('/run'))}`,
    `mount -t tmpfs -o mode=755 tmpfs ${shq(merged + inRoot('/run'))}`,
  ];
  // `ip netns exec` bound the pod's resolv.conf and hosts over the host's: carry them into the new root.
  for (const f of ['/etc/resolv.conf', '/etc/hosts']) {
    const target = merged + inRoot(f);
    lines.push(`[ -e ${shq(target)} ] || touch ${shq(target)}`, `mount --bind ${f} ${shq(target)}`);
  }
  const binds: { src: string; target: string; readOnly: boolean }[] = setup.rootfs ? [] : [{ src: REPO_ROOT, target: REPO_ROOT, readOnly: false }];
  for (const mount of container.volumeMounts ?? []) {
    const source = volumes.get(mount.name);
    if (source === undefined) throw new Error(`volumeMount ${mount.name} has no volume`);
    const src = mount.subPath ? join(source, mount.subPath) : source;
    if (mount.subPath) mkdirSync(src, { recursive: true });
    binds.push({ src, target: inRoot(mount.mountPath), readOnly: !!mount.readOnly });
  }
  // Parents before children, so a volume inside another volume's mountPath stays visible.
  binds.sort((a, b) => a.target.split('/').length - b.target.split('/').length);
  for (const bind of binds) {
    const target = shq(merged + bind.target);
    lines.push(`mkdir -p ${target}`, `mount --rbind ${shq(bind.src)} ${target}`);
    if (bind.readOnly) lines.push(`mount -o remount,bind,ro ${target}`);
  }
  lines.push(`mkdir -p ${shq(merged + inRoot(setup.workingDir))}`);
  // Only the root's own mount turns read-only: /proc, /run, /tmp and the volumes keep their flags.
  if (setup.readOnlyRoot) lines.push(`mount -o remount,bind,ro ${shq(merged)}`);
  const user = setup.user ? `--userspec=${setup.user.uid}:${setup.user.gid} --groups=${setup.user.groups.join(',')} ` : '';
  lines.push(`exec chroot ${user}${shq(merged)} sh -c 'cd "$0" && exec "$@"' ${shq(setup.workingDir)} "$@"`);
  return lines.join('\n');
}
