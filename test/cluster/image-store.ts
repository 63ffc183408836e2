// The images the node agent has: what `npm run images:build` exported (each image's root file
// system and its OCI config), listed per checkout in a store file, plus images a test registers
// itself. An image not found here is an image the node cannot pull.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from './tools.ts';

/** The part of an image's OCI config a container runtime uses to start it. */
export interface ImageConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  User?: string;
  WorkingDir?: string;
  Env?: string[] | null;
}

export interface StoredImage {
  /** Root file system of the image; `null`: the host's own `/` (test images that run host binaries). */
  rootfs: string | null;
  config: ImageConfig;
  /** Dockerfile target and input hash it was built from (images:build). */
  target?: string;
  inputs?: string;
  sizeBytes?: number;
  builtAt?: string;
  buildSeconds?: number;
}

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

/** `${XDG_CACHE_HOME:-~/.cache}/pipetrain/images`: bases, buildah storage, exported root file systems. */
export function imagesRoot(): string {
  return join(cacheRoot(), 'images');
}

/** This checkout's image list (another checkout's build never changes what this one's tests run). */
export function storeFile(repoRoot = REPO_ROOT): string {
  const id = createHash('sha256').update(repoRoot).digest('hex').slice(0, 12);
  return join(imagesRoot(), 'stores', `${id}.json`);
}

/**
 * The full reference a runtime resolves: `busybox` → `docker.io/library/busybox:latest`,
 * `ghcr.io/x/y` → `ghcr.io/x/y:latest`; a digest or tag is kept.
 */
export function normalizeReference(image: string): string {
  let name = image.trim();
  const first = name.split('/')[0] ?? '';
  const hasRegistry = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) name = `docker.io/${name.includes('/') ? '' : 'library/'}${name}`;
  const last = name.split('/').at(-1) ?? '';
  if (!last.includes(':') && !last.includes('@')) name += ':latest';
  return name;
}

export function readStore(file = storeFile()): Record<string, StoredImage> {
  if (!existsSync(file)) return {};
  return (JSON.parse(readFileSync(file, 'utf8')) as { images?: Record<string, StoredImage> }).images ?? {};
}

/**
 * Every checkout's images, keyed `<store file>:<reference>`. The store of a checkout that is gone (a
 * removed worktree, a CI clone) is deleted: it would keep its root file systems (about 1 GiB each)
 * from ever being removed.
 */
export function readAllStores(stores = join(imagesRoot(), 'stores')): Record<string, StoredImage> {
  const all: Record<string, StoredImage> = {};
  for (const file of existsSync(stores) ? readdirSync(stores).filter((f) => f.endsWith('.json')) : []) {
    const path = join(stores, file);
    const { checkout } = JSON.parse(readFileSync(path, 'utf8')) as { checkout?: string };
    if (checkout !== undefined && !existsSync(checkout)) {
      rmSync(path, { force: true });
      continue;
    }
    for (const [name, image] of Object.entries(readStore(path))) all[`${file}:${name}`] = image;
  }
  return all;
}

export function writeStore(images: Record<string, StoredImage>, file = storeFile()): void {
  mkdirSync(dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, `${JSON.stringify({ checkout: REPO_ROOT, images }, null, 2)}\n`);
  renameSync(partial, file);
}

/** The image `reference` names, from the test's own images first, then the built ones. */
export function findImage(reference: string, extra: Record<string, StoredImage> = {}, file = storeFile()): StoredImage | undefined {
  return findIn(extra, reference) ?? findIn(readStore(file), reference);
}

/** The image `reference` names in `images`, comparing full references (`busybox` = `docker.io/library/busybox:latest`). */
export function findIn(images: Record<string, StoredImage>, reference: string): StoredImage | undefined {
  const wanted = normalizeReference(reference);
  return Object.entries(images).find(([name]) => normalizeReference(name) === wanted)?.[1];
}
