// The setup's options: flags first, then environment variables (for Dockerfiles), then defaults.
// Nothing assumes $HOME: without XDG_CACHE_HOME or HOME the cache folder must be given.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { defaultCacheRoot, type NativeVariant } from '../tf/native-layout.ts';
import { SetupError } from './setup-error.ts';

export interface SetupFlags {
  variant?: string;
  prefix?: string;
  cacheDir?: string;
  nodedir?: string;
  python?: string;
  wheel?: string;
  copy?: boolean;
  keepWheel?: boolean;
  force?: boolean;
}

export interface SetupOptions {
  variant: NativeVariant;
  /** Folder with the package.json and node_modules that get the binding. */
  prefix: string;
  /** `<cache>/tensorflow-<version>-<variant>` lives here. */
  cacheRoot: string;
  nodedir: string;
  python: string;
  wheel?: string;
  copy: boolean;
  keepWheel: boolean;
  force: boolean;
}

export interface SetupRuntime {
  env: NodeJS.ProcessEnv;
  execPath: string;
  nodeVersion: string;
  /** The checkout this script belongs to: the default prefix. */
  projectRoot: string;
}

export function resolveSetupOptions(flags: SetupFlags, runtime: SetupRuntime): SetupOptions {
  const { env } = runtime;
  const variant = flags.variant ?? env.PIPETRAIN_TF_VARIANT ?? 'cpu';
  if (variant !== 'cpu' && variant !== 'gpu') throw new SetupError(`--variant ${variant}: unknown variant`, 'use --variant cpu or --variant gpu');
  const prefix = resolve(flags.prefix ?? env.PIPETRAIN_TF_PREFIX ?? runtime.projectRoot);
  if (!existsSync(join(prefix, 'package.json'))) {
    throw new SetupError(`--prefix ${prefix}: no package.json there`, 'pass the folder that holds the project\'s package.json and node_modules');
  }
  const cacheRoot = flags.cacheDir ?? env.PIPETRAIN_TF_CACHE_DIR ?? defaultCacheRoot(env);
  if (!cacheRoot) throw new SetupError('no cache folder: neither XDG_CACHE_HOME nor HOME is set', 'pass --cache-dir DIR (or set PIPETRAIN_TF_CACHE_DIR)');
  const wheel = flags.wheel ?? env.PIPETRAIN_TF_WHEEL;
  return {
    variant,
    prefix,
    cacheRoot: resolve(cacheRoot),
    nodedir: findNodeHeaders(flags.nodedir ?? env.PIPETRAIN_TF_NODEDIR, runtime),
    python: flags.python ?? env.PYTHON ?? 'python3',
    wheel: wheel ? resolve(wheel) : undefined,
    copy: flags.copy ?? env.PIPETRAIN_TF_COPY === '1',
    keepWheel: flags.keepWheel ?? false,
    force: flags.force ?? false,
  };
}

/**
 * The headers of the Node that runs us: `<prefix>/include/node` next to its bin/node (a Node tarball,
 * or /usr for Debian's and nodesource's packages). node-gyp would otherwise download them.
 */
export function findNodeHeaders(given: string | undefined, runtime: Pick<SetupRuntime, 'execPath' | 'nodeVersion'>): string {
  const candidate = resolve(given ?? join(dirname(runtime.execPath), '..'));
  const header = join(candidate, 'include', 'node', 'node_api.h');
  if (!existsSync(header)) {
    const where = given ? `--nodedir ${candidate}` : `next to ${runtime.execPath}`;
    throw new SetupError(`Node's headers not found (${where} has no include/node/node_api.h); node-gyp would download them, and only package registries are reachable`, 'pass --nodedir DIR, a folder with include/node/ from the Node release that runs the trainer');
  }
  const version = headersVersion(candidate);
  if (given === undefined && version && version !== runtime.nodeVersion) {
    throw new SetupError(`the headers next to ${runtime.execPath} are Node ${version}, this is Node ${runtime.nodeVersion}`, 'pass --nodedir DIR with the headers of this Node');
  }
  return candidate;
}

/** `v24.22.3`, from include/node/node_version.h. */
export function headersVersion(nodedir: string): string | undefined {
  try {
    const text = readFileSync(join(nodedir, 'include', 'node', 'node_version.h'), 'utf8');
    const part = (name: string) => new RegExp(`#define ${name} (\\d+)`).exec(text)?.[1];
    const [major, minor, patch] = [part('NODE_MAJOR_VERSION'), part('NODE_MINOR_VERSION'), part('NODE_PATCH_VERSION')];
    return major && minor && patch ? `v${major}.${minor}.${patch}` : undefined;
  } catch {
    return undefined;
  }
}
