// `npm run setup:tensorflow`: makes the native TensorFlow backend (tfjs-node) usable without
// Google's libtensorflow download. TensorFlow's C libraries come from the pinned PyPI wheel, the
// binding is compiled offline with node-gyp, and the result is linked into node_modules.
// Idempotent: each step keeps its result in the cache and skips when it is there, so after
// `npm ci` (which wipes the package) a run only re-links, in seconds.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { napiBuildVersion, nativePackageOf, TENSORFLOW_LIBRARIES, TENSORFLOW_VERSION, TFJS_NODE_VERSION, variantCacheDir } from '../tf/native-layout.ts';
import { ensureBinding } from './binding-build.ts';
import { withCacheLock } from './cache-lock.ts';
import { ensureLibraries } from './libraries.ts';
import { linkIntoPackage } from './link.ts';
import { ensureNativePackage } from './native-package.ts';
import { SetupError } from './setup-error.ts';
import { resolveSetupOptions, type SetupFlags, type SetupOptions } from './setup-options.ts';
import { createSetupReport, formatSeconds } from './setup-report.ts';
import { checkBindingSymbols } from './symbols.ts';
import { verifyLoad } from './verify.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export async function setupTensorflow(options: SetupOptions): Promise<void> {
  const report = createSetupReport();
  const started = performance.now();
  const variantDir = variantCacheDir(options.cacheRoot, options.variant);
  const packageName = nativePackageOf(options.variant);
  process.stderr.write(`setup:tensorflow: TensorFlow ${TENSORFLOW_VERSION} (${options.variant}) for ${packageName} ${TFJS_NODE_VERSION}, Node ${process.version} (N-API ${process.versions.napi}), into ${options.prefix}\n`);
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new SetupError(`this is ${process.platform}-${process.arch}; the pinned TensorFlow ${TENSORFLOW_VERSION} wheels are built for linux x86_64 only`, "use backend 'wasm' here, or run on linux x86_64");
  }
  mkdirSync(variantDir, { recursive: true });
  await withCacheLock(`${variantDir}.lock`, { onWait: (pid) => report.note(`waiting for another setup (pid ${pid}) that holds ${variantDir}.lock`) }, async () => {
    const libraries = await ensureLibraries({ ...options, variantDir }, report);
    const pkg = await ensureNativePackage(options.prefix, packageName, report);
    const napiVersion = napiBuildVersion(pkg.napiVersions, Number(process.versions.napi));
    if (napiVersion === undefined) throw new SetupError(`this Node has N-API ${process.versions.napi}; ${packageName} needs at least ${Math.min(...pkg.napiVersions)}`, 'use Node.js 20 or newer');
    const binding = await ensureBinding({ ...options, variantDir, napiVersion }, libraries, pkg, report);
    await checkBindingSymbols(binding.path, TENSORFLOW_LIBRARIES.map((lib) => join(libraries.libDir, lib)), report);
    linkIntoPackage(pkg, napiVersion, libraries, binding, options.copy, report);
    await verifyLoad(options.variant === 'gpu' ? 'tensorflow-gpu' : 'tensorflow', pkg.dir, report);
  });
  const backend = options.variant === 'gpu' ? 'tensorflow-gpu' : 'tensorflow';
  process.stderr.write(`setup:tensorflow: done in ${formatSeconds(performance.now() - started)}; backend '${backend}' is usable (auto picks it${options.variant === 'gpu' ? ' on machines with an NVIDIA GPU' : ''}).\n`);
}

function program(): Command {
  return new Command('setup:tensorflow')
    .description('Build the native TensorFlow backend (tfjs-node) from the pinned PyPI TensorFlow wheel and link it into node_modules. Idempotent; re-run after npm ci.')
    .addOption(new Option('--variant <variant>', 'cpu (tensorflow-cpu wheel) or gpu (tensorflow wheel, CUDA 12) [env PIPETRAIN_TF_VARIANT]').choices(['cpu', 'gpu']))
    .option('--prefix <dir>', 'folder with the package.json and node_modules to set up [env PIPETRAIN_TF_PREFIX] (default: this checkout)')
    .option('--cache-dir <dir>', 'cache folder [env PIPETRAIN_TF_CACHE_DIR] (default: ${XDG_CACHE_HOME:-$HOME/.cache}/pipetrain)')
    .option('--nodedir <dir>', "folder with include/node/ headers of the Node that will run the trainer [env PIPETRAIN_TF_NODEDIR] (default: next to this Node's binary)")
    .option('--python <command>', 'Python that runs pip [env PYTHON] (default: python3)')
    .option('--wheel <file>', 'use this already downloaded wheel instead of asking pip [env PIPETRAIN_TF_WHEEL]')
    .option('--copy', 'copy the libraries into node_modules instead of linking the cache (for images) [env PIPETRAIN_TF_COPY=1]')
    .option('--keep-wheel', 'keep the downloaded wheel in the cache after unpacking it')
    .option('--force', 'unpack and build again even when the cache has the result')
    .addHelpText('after', `
Needs: python3 with pip (downloads the wheel from PyPI), g++, make and binutils' strip.
Steps, each skipped when its result is cached: wheel (pip download) → unpack + strip the two
libraries and the C headers → install tfjs-node with scripts skipped → build the binding
(node-gyp, offline) → link into node_modules → load it in a fresh process.`);
}

async function main(): Promise<void> {
  const flags = program().parse(process.argv).opts<SetupFlags>();
  try {
    const options = resolveSetupOptions(flags, { env: process.env, execPath: process.execPath, nodeVersion: process.version, projectRoot: PROJECT_ROOT });
    await setupTensorflow(options);
  } catch (error) {
    const line = error instanceof SetupError ? error.line() : `unexpected failure: ${(error as Error).message.split('\n')[0]}`;
    process.stderr.write(`setup:tensorflow: ${line}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
