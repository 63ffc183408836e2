// Linking and copying into a package folder give an installation the runtime probe accepts; doing
// it again (after `npm ci`, or over a stock install's deps/lib) replaces what was there.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BINDING_STAMP, type BindingStamp } from '../tf/native-layout.ts';
import { probeNative } from '../tf/native-probe.ts';
import { linkIntoPackage } from './link.ts';
import type { Libraries } from './libraries.ts';

const root = mkdtempSync(join(tmpdir(), 'pipetrain-link-'));
after(() => rmSync(root, { recursive: true, force: true }));

const cacheLib = join(root, 'cache', 'lib');
mkdirSync(cacheLib, { recursive: true });
for (const lib of ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']) writeFileSync(join(cacheLib, lib), `library ${lib}`);
const libraries: Libraries = {
  libDir: cacheLib, includeDir: join(root, 'cache', 'include'),
  manifest: { tensorflowVersion: '2.15.1', variant: 'cpu', wheel: 'w', wheelSha256: 's', stripped: true, libraries: { 'libtensorflow_cc.so.2': 10, 'libtensorflow_framework.so.2': 10 }, headers: 1, createdAt: '' },
};
const built = join(root, 'cache', 'bindings', 'key');
mkdirSync(built, { recursive: true });
writeFileSync(join(built, 'tfjs_binding.node'), readFileSync(process.execPath).subarray(0, 4096)); // an ELF file of this machine
const stamp: BindingStamp = { variant: 'cpu', tensorflowVersion: '2.15.1', tfjsNodeVersion: '4.22.0', napiVersion: 8, nodeVersion: process.version, platform: process.platform, arch: process.arch, libraries: Object.keys(libraries.manifest.libraries), builtAt: '' };
writeFileSync(join(built, BINDING_STAMP), JSON.stringify(stamp));

function packageDir(name: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'deps', 'lib'), { recursive: true }); // as a stock install leaves it
  writeFileSync(join(dir, 'deps', 'lib', 'libtensorflow.so.2'), 'stock');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ binary: { napi_versions: [3, 4, 5, 6, 7, 8] } }));
  return dir;
}

const quiet = { step: () => {}, note: () => {} };

for (const copy of [false, true]) {
  test(`${copy ? 'copying' : 'linking'} the libraries makes an installation the probe accepts, and can be repeated`, () => {
    const dir = packageDir(copy ? 'copied' : 'linked');
    const pkg = { name: '@tensorflow/tfjs-node', dir, napiVersions: [3, 4, 5, 6, 7, 8] };
    linkIntoPackage(pkg, 8, libraries, { path: join(built, 'tfjs_binding.node'), stamp }, copy, quiet);
    linkIntoPackage(pkg, 8, libraries, { path: join(built, 'tfjs_binding.node'), stamp }, copy, quiet);
    const libDir = join(dir, 'deps', 'lib');
    if (copy) assert.equal(lstatSync(libDir).isDirectory(), true);
    else assert.equal(readlinkSync(libDir), cacheLib);
    assert.equal(readFileSync(join(libDir, 'libtensorflow_cc.so.2'), 'utf8'), 'library libtensorflow_cc.so.2');
    assert.equal(lstatSync(join(dir, 'lib', 'napi-v8', 'tfjs_binding.node')).isFile(), true, 'the binding is a copy: $ORIGIN must be its own folder');
    assert.deepEqual(probeNative('tensorflow', { resolvePackageDir: () => dir }).ok, true);
  });
}
