// Step 2: tfjs-node's JavaScript in node_modules. It is an optional dependency whose install script
// downloads libtensorflow from Google's storage; where that fails (here), `npm ci` removes the
// package and every dependency only it needs. We install it again with scripts skipped: the
// lockfile's exact versions, nothing saved to package.json or the lockfile.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { TFJS_NODE_VERSION } from '../tf/native-layout.ts';
import { lastLine, runCommand } from './run-command.ts';
import { SetupError } from './setup-error.ts';
import type { SetupReport } from './setup-report.ts';

export interface NativePackage {
  name: string;
  dir: string;
  napiVersions: number[];
}

export async function ensureNativePackage(prefix: string, name: string, report: SetupReport): Promise<NativePackage> {
  const dir = join(prefix, 'node_modules', ...name.split('/'));
  if (isComplete(dir)) {
    report.step('tfjs-node', `installed: ${relativeTo(prefix, dir)} ${TFJS_NODE_VERSION}`);
    return describe(name, dir);
  }
  const started = performance.now();
  const listed = dependencyListed(prefix, name);
  // Listed (our package.json): install what the lockfile says is missing. Otherwise add it unsaved.
  const args = ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', ...(listed ? [] : [`${name}@${TFJS_NODE_VERSION}`])];
  const npm = npmCommand();
  const result = await runCommand(npm.command, [...npm.args, ...args], { cwd: prefix });
  if (result.missing) throw new SetupError('npm not found', 'run the setup with the npm that installed this project (npm run setup:tensorflow)');
  if (result.code !== 0 || !isComplete(dir)) {
    throw new SetupError(`npm could not install ${name}@${TFJS_NODE_VERSION} in ${prefix} (${lastLine(result.stderr) || 'not installed'})`, 'check access to the npm registry, then run the setup again');
  }
  report.step('tfjs-node', `installed ${name}@${TFJS_NODE_VERSION} without its download script (npm ${args.join(' ')})`, started);
  return describe(name, dir);
}

/** The package, the right version, and its loader's dependency (which `npm ci` removes with it). */
function isComplete(dir: string): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string };
    if (manifest.version !== TFJS_NODE_VERSION) return false;
    createRequire(join(dir, 'package.json')).resolve('@mapbox/node-pre-gyp');
    return existsSync(join(dir, 'binding.gyp'));
  } catch {
    return false;
  }
}

function describe(name: string, dir: string): NativePackage {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { binary?: { napi_versions?: number[] } };
  return { name, dir, napiVersions: manifest.binary?.napi_versions ?? [] };
}

function dependencyListed(prefix: string, name: string): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(prefix, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    return ['dependencies', 'optionalDependencies', 'devDependencies'].some((field) => manifest[field]?.[name] !== undefined);
  } catch {
    return false;
  }
}

/** Under `npm run`, the npm that runs us (npm_execpath); otherwise the one on PATH. */
function npmCommand(): { command: string; args: string[] } {
  const execPath = process.env.npm_execpath;
  if (execPath && /npm-cli\.js$/.test(execPath)) return { command: process.execPath, args: [execPath] };
  return { command: 'npm', args: [] };
}

function relativeTo(prefix: string, dir: string): string {
  return dir.startsWith(prefix) ? dir.slice(prefix.length + 1) : dir;
}
