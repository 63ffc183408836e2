// Step 3: tfjs-node's binding (tfjs_binding.node), compiled with node-gyp offline against the
// cached TensorFlow headers and this Node's headers. The binding uses N-API, so one build serves
// every Node with at least that N-API version; it is cached per (N-API version, Node major).
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BINDING_FILE, BINDING_STAMP, type BindingStamp, TENSORFLOW_LIBRARIES, TENSORFLOW_VERSION, TFJS_NODE_VERSION, type NativeVariant } from '../tf/native-layout.ts';
import type { Libraries } from './libraries.ts';
import type { NativePackage } from './native-package.ts';
import { lastLine, runCommand } from './run-command.ts';
import { SetupError } from './setup-error.ts';
import { formatBytes, type SetupReport } from './setup-report.ts';

export interface BindingOptions {
  variant: NativeVariant;
  variantDir: string;
  /** Folder with include/node/node_api.h: the headers of the Node that will run the binding. */
  nodedir: string;
  napiVersion: number;
  force: boolean;
}

export interface BuiltBinding {
  path: string;
  stamp: BindingStamp;
}

export async function ensureBinding(options: BindingOptions, libraries: Libraries, pkg: NativePackage, report: SetupReport): Promise<BuiltBinding> {
  const key = `tfjs-node-${TFJS_NODE_VERSION}-napi${options.napiVersion}-node${process.versions.node.split('.')[0]}-${process.platform}-${process.arch}`;
  const dir = join(options.variantDir, 'bindings', key);
  const path = join(dir, BINDING_FILE);
  const cached = options.force ? undefined : readStamp(join(dir, BINDING_STAMP));
  if (cached && existsSync(path)) {
    report.step('binding', `cached: ${path} (${formatBytes(statSync(path).size)})`);
    return { path, stamp: cached };
  }
  await checkBuildTools();
  const started = performance.now();
  const work = join(options.variantDir, `.build-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'deps'), { recursive: true });
  // binding.gyp reads the headers and libraries from <package>/deps; we build in a copy of its
  // sources so node_modules gets no build/ folder.
  cpSync(join(pkg.dir, 'binding'), join(work, 'binding'), { recursive: true });
  cpSync(join(pkg.dir, 'binding.gyp'), join(work, 'binding.gyp'));
  symlinkSync(libraries.libDir, join(work, 'deps', 'lib'));
  symlinkSync(libraries.includeDir, join(work, 'deps', 'include'));
  const gyp = nodeGypScript(pkg.dir);
  const args = [
    gyp, 'rebuild', `--nodedir=${options.nodedir}`, `--devdir=${join(options.variantDir, 'node-gyp')}`, '-j', '2',
    // binding.gyp expects the variables node-pre-gyp would pass.
    `--napi_build_version=${options.napiVersion}`, '--module_name=tfjs_binding', `--module_path=lib/napi-v${options.napiVersion}`,
  ];
  // Our --nodedir wins over a nodedir in the user's .npmrc, which npm passes down in the environment.
  const env = { ...process.env, npm_config_nodedir: options.nodedir };
  const result = await runCommand(process.execPath, args, { cwd: work, env });
  if (result.code !== 0) {
    throw new SetupError(`node-gyp could not build the binding (${buildError(result.stdout + result.stderr)}); build folder kept: ${work}`, 'install g++, make and python3 (Debian: apt-get install g++ make python3), then run the setup again');
  }
  const stamp: BindingStamp = {
    variant: options.variant, tensorflowVersion: TENSORFLOW_VERSION, tfjsNodeVersion: TFJS_NODE_VERSION, napiVersion: options.napiVersion,
    nodeVersion: process.version, platform: process.platform, arch: process.arch, libraries: [...TENSORFLOW_LIBRARIES], builtAt: new Date().toISOString(),
  };
  const staged = `${dir}.staging-${process.pid}`;
  rmSync(staged, { recursive: true, force: true });
  mkdirSync(staged, { recursive: true });
  cpSync(join(work, 'build', 'Release', BINDING_FILE), join(staged, BINDING_FILE));
  writeFileSync(join(staged, BINDING_STAMP), JSON.stringify(stamp, null, 2) + '\n');
  rmSync(dir, { recursive: true, force: true });
  renameSync(staged, dir);
  rmSync(work, { recursive: true, force: true });
  report.step('binding', `built ${BINDING_FILE} (${formatBytes(statSync(path).size)}, N-API ${options.napiVersion}, headers of ${options.nodedir}) with node-gyp`, started);
  return { path, stamp };
}

async function checkBuildTools(): Promise<void> {
  const compiler = process.env.CXX ?? 'g++';
  for (const [tool, args] of [[compiler, ['--version']], ['make', ['--version']]] as const) {
    if ((await runCommand(tool, [...args])).missing) {
      throw new SetupError(`${tool} not found: node-gyp needs a C++ compiler and make to build the binding`, 'install them (Debian: apt-get install g++ make python3), then run the setup again');
    }
  }
}

/** node-gyp: ours (a devDependency), else the copy bundled with npm. */
function nodeGypScript(packageDir: string): string {
  const candidates = [
    () => createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'),
    () => createRequire(join(packageDir, 'package.json')).resolve('node-gyp/bin/node-gyp.js'),
    () => join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const candidate of candidates) {
    try {
      const path = candidate();
      if (existsSync(path)) return path;
    } catch {
      // not there: try the next
    }
  }
  throw new SetupError('node-gyp not found', 'run npm ci (node-gyp is a devDependency), then run the setup again');
}

/** The compiler's first error line, or node-gyp's last words. */
function buildError(output: string): string {
  const error = output.split('\n').find((line) => /error:|Error:/.test(line) && !/^gyp ERR! (stack|System|command|cwd|node -v|node-gyp -v|not ok)/.test(line));
  return (error ?? lastLine(output)).trim().slice(0, 200);
}

function readStamp(path: string): BindingStamp | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as BindingStamp;
  } catch {
    return undefined;
  }
}
