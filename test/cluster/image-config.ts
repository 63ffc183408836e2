// What a container runtime takes from an image's OCI config to start a container: the argv (Kubernetes'
// rule: command replaces the Entrypoint, args replace the Cmd), the user (names looked up in the image's
// own /etc/passwd and /etc/group) and the environment.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageConfig } from './image-store.ts';

export function imageArgv(config: ImageConfig, command: string[] | undefined, args: string[] | undefined): string[] {
  if (command?.length) return [...command, ...(args ?? [])];
  return [...(config.Entrypoint ?? []), ...(args?.length ? args : (config.Cmd ?? []))];
}

function lines(rootfs: string, file: string): string[][] {
  try {
    return readFileSync(join(rootfs, file), 'utf8').split('\n').filter(Boolean).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

function idOf(rootfs: string, file: string, name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  const entry = lines(rootfs, file).find((fields) => fields[0] === name);
  return entry ? Number(entry[2]) : undefined;
}

/** `uid[:gid]` as numbers; without a group, the user's primary group in the image, else 0 (as runtimes do). */
export function resolveUser(rootfs: string, user: string | undefined): { uid: number; gid: number } {
  const [u = '0', g] = (user || '0').split(':');
  const uid = idOf(rootfs, 'etc/passwd', u);
  if (uid === undefined) throw new Error(`user "${u}" is not in the image's /etc/passwd`);
  if (g !== undefined) {
    const gid = idOf(rootfs, 'etc/group', g);
    if (gid === undefined) throw new Error(`group "${g}" is not in the image's /etc/group`);
    return { uid, gid };
  }
  const entry = lines(rootfs, 'etc/passwd').find((fields) => Number(fields[2]) === uid);
  return { uid, gid: entry ? Number(entry[3]) : 0 };
}

/** The user's home in the image (runtimes set HOME from it), else `/`. */
export function homeOf(rootfs: string, uid: number): string {
  return lines(rootfs, 'etc/passwd').find((fields) => Number(fields[2]) === uid)?.[5] || '/';
}

/** `KEY=value` entries as a record (a later entry wins). */
export function envRecord(entries: readonly string[] | null | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries ?? []) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}
