// `npm run images:build`: builds the Dockerfile's targets with buildah over a local stand-in of their
// base, and exports each image (root file system + OCI config) for the test cluster's node agent.
//
//   npm run images:build                          # every target; skips those whose inputs did not change
//   npm run images:build -- --target stage --force
//
// A target is rebuilt only when its input hash changes (inputs.ts: the Dockerfile, .dockerignore,
// the stand-in base and every file its stages copy). The exported root file systems are
// content-addressed (`rootfs/<target>-<hash>`), so checkouts with the same inputs share them; each
// checkout lists its images in a store file of its own (test/cluster/image-store.ts). buildah's
// storage (test/images/buildah.ts) keeps the stand-in base and every layer between runs.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { imagesRoot, readAllStores, readStore, storeFile, writeStore, type ImageConfig, type StoredImage } from '../cluster/image-store.ts';
import { withLock } from '../cluster/lock.ts';
import { ensureStandIn, standInFor, type StandIn } from './base.ts';
import { buildah, missingTools, run, storageRoot } from './buildah.ts';
import { baseImages, readStages } from './dockerfile.ts';
import { inputsHash } from './inputs.ts';
import { appVersion, imageReference, TARGETS, type Target } from './targets.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

/** Bump when the export below changes, so every target is exported again. */
const EXPORT_RECIPE = 1;

type Log = (line: string) => void;
const stderrLog: Log = (line) => process.stderr.write(`[images] ${line}\n`);

export interface BuildResult {
  target: Target;
  reference: string;
  status: 'built' | 'up to date' | 'shared';
  seconds: number;
  sizeBytes: number;
}

const rootfsDir = (target: Target, inputs: string): string => join(imagesRoot(), 'rootfs', `${target}-${inputs.slice(0, 16)}`);
const seconds = (since: number): number => Math.round((Date.now() - since) / 100) / 10;
export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

async function diskUsage(dir: string): Promise<number> {
  return Number((await run('du', ['-sb', dir])).split(/\s/)[0]);
}

/** The image's root file system and OCI config, copied out of buildah's storage. */
async function exportImage(reference: string, dest: string): Promise<ImageConfig> {
  // buildah 1.28's --format has no `json` function: read the whole inspect document.
  const config = (JSON.parse(await buildah(['inspect', '--type', 'image', reference])) as { OCIv1: { config: ImageConfig } }).OCIv1.config;
  const container = await buildah(['from', '--pull=never', '--quiet', reference]);
  try {
    const mount = await buildah(['mount', container]);
    rmSync(`${dest}.partial`, { recursive: true, force: true });
    mkdirSync(`${dest}.partial`, { recursive: true });
    await run('cp', ['-a', `${mount}/.`, `${dest}.partial`]);
    renameSync(`${dest}.partial`, dest);
  } finally {
    await buildah(['rm', container]).catch(() => undefined);
  }
  return { Entrypoint: config.Entrypoint, Cmd: config.Cmd, User: config.User, WorkingDir: config.WorkingDir, Env: config.Env };
}

async function buildTarget(target: Target, inputs: string, reference: string, log: Log): Promise<StoredImage> {
  const started = Date.now();
  const logFile = join(imagesRoot(), 'logs', `${target}.log`);
  rmSync(logFile, { force: true });
  log(`${target}: buildah bud --target ${target} (log: ${logFile}) ...`);
  await buildah(['bud', '--pull=never', '--layers', '--force-rm', '--isolation', 'chroot', '--target', target, '-t', reference, '-f', join(REPO_ROOT, 'Dockerfile'), REPO_ROOT], { logFile });
  const dest = rootfsDir(target, inputs);
  const config = await exportImage(reference, dest);
  // The image and its layers stay in buildah's storage: the next build of a changed source reuses
  // every layer before the first changed COPY (the `npm ci` layer above all).
  return { rootfs: dest, config, target, inputs, sizeBytes: await diskUsage(dest), builtAt: new Date().toISOString(), buildSeconds: seconds(started) };
}

/** Root file systems of a target that no checkout's store names, except the newest two. */
function removeUnused(target: Target): void {
  const root = join(imagesRoot(), 'rootfs');
  const used = new Set(Object.values(readAllStores()).map((image) => image.rootfs));
  const candidates = readdirSync(root)
    .filter((d) => d.startsWith(`${target}-`) && !d.endsWith('.partial') && /-[0-9a-f]{16}$/.test(d))
    .map((d) => join(root, d))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const dir of candidates.slice(2)) if (!used.has(dir)) rmSync(dir, { recursive: true, force: true });
}

/** What a target is built from now: its image name, stand-in bases and input hash. */
export function targetInputs(target: Target, stages = readStages(REPO_ROOT), version = appVersion(REPO_ROOT)): { reference: string; standIns: StandIn[]; inputs: string } {
  const standIns = baseImages(stages, target).map((image) => standInFor(image, REPO_ROOT));
  const inputs = inputsHash(REPO_ROOT, stages, target, `${EXPORT_RECIPE}:${standIns.map((s) => s.key).join(',')}`);
  return { reference: imageReference(target, version), standIns, inputs };
}

export type BuiltImage =
  | { state: 'missing'; reference: string }
  | { state: 'stale' | 'current'; reference: string; image: StoredImage };

/** This checkout's export of a target, and whether it was built from the sources as they are now. */
export function builtImage(target: Target): BuiltImage {
  const { reference, inputs } = targetInputs(target);
  const image = readStore()[reference];
  if (!image?.rootfs || !existsSync(image.rootfs)) {
    // CI builds the images first and sets this, so no test falls back to the checkout or skips.
    if (process.env.PIPETRAIN_REQUIRE_IMAGES === '1') throw new Error(`${reference} is not built, and PIPETRAIN_REQUIRE_IMAGES=1 requires it: run \`npm run images:build\``);
    return { state: 'missing', reference };
  }
  return { state: image.inputs === inputs ? 'current' : 'stale', reference, image };
}

export interface BuildOptions {
  targets?: readonly Target[];
  force?: boolean;
  log?: Log;
}

/** Builds (or finds up to date) every requested target and records it in this checkout's store. */
export async function buildImages(options: BuildOptions = {}): Promise<BuildResult[]> {
  const log = options.log ?? stderrLog;
  const problem = await missingTools();
  if (problem) throw new Error(problem);
  mkdirSync(join(imagesRoot(), 'rootfs'), { recursive: true });
  return withLock(join(imagesRoot(), '.lock'), log, async () => {
    // The lock serialises every user of this storage, so a container left here is from a build
    // that was killed: remove it with its mounts before they pile up.
    await buildah(['rm', '--all']).catch(() => undefined);
    const stages = readStages(REPO_ROOT);
    const version = appVersion(REPO_ROOT);
    const results: BuildResult[] = [];
    for (const target of options.targets ?? TARGETS) {
      const started = Date.now();
      const { reference, standIns, inputs } = targetInputs(target, stages, version);
      const store = readStore();
      const known = store[reference];
      const dest = rootfsDir(target, inputs);
      let status: BuildResult['status'];
      if (!options.force && known?.inputs === inputs && known.rootfs && existsSync(known.rootfs)) {
        status = 'up to date';
      } else if (!options.force && existsSync(dest) && known?.inputs !== inputs) {
        // Another checkout built exactly these inputs: reuse its export.
        const config = Object.values(readAllStores()).find((image) => image.rootfs === dest)?.config;
        if (!config) {
          rmSync(dest, { recursive: true, force: true });
          for (const standIn of standIns) await ensureStandIn(standIn, log);
          store[reference] = await buildTarget(target, inputs, reference, log);
          status = 'built';
        } else {
          store[reference] = { rootfs: dest, config, target, inputs, sizeBytes: await diskUsage(dest), builtAt: new Date().toISOString(), buildSeconds: 0 };
          status = 'shared';
        }
      } else {
        for (const standIn of standIns) await ensureStandIn(standIn, log);
        rmSync(dest, { recursive: true, force: true });
        store[reference] = await buildTarget(target, inputs, reference, log);
        status = 'built';
      }
      writeStore(store);
      removeUnused(target);
      const image = store[reference]!;
      const result: BuildResult = { target, reference, status, seconds: seconds(started), sizeBytes: image.sizeBytes ?? 0 };
      log(`${target}: ${reference} ${status} in ${result.seconds} s, ${mib(result.sizeBytes)} (${image.rootfs})`);
      results.push(result);
    }
    return results;
  });
}

function parseArgs(argv: string[]): BuildOptions {
  const targets: Target[] = [];
  let force = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--force') force = true;
    else if (arg === '--target') {
      const value = argv[++i] as Target;
      if (!TARGETS.includes(value)) throw new Error(`--target ${value ?? ''}: not a target of the Dockerfile (use ${TARGETS.join(', ')})`);
      targets.push(value);
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`Usage: npm run images:build [-- --target ${TARGETS.join('|')} ... --force]\n` +
        'Builds the Dockerfile targets with buildah over a local stand-in base and exports them for the test cluster.\n' +
        `Cache: ${imagesRoot()}; this checkout's image list: ${storeFile()}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (see --help)`);
  }
  return { targets: targets.length ? targets : undefined, force };
}

async function main(): Promise<void> {
  const started = Date.now();
  const results = await buildImages(parseArgs(process.argv.slice(2)));
  const storage = existsSync(storageRoot()) ? await diskUsage(storageRoot()) : 0;
  stderrLog(`done in ${seconds(started)} s: ${results.map((r) => `${r.target} ${r.status}`).join(', ')}; buildah storage ${mib(storage)}; image list ${storeFile()}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    stderrLog(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
