import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNodeHeaders, headersVersion, resolveSetupOptions, type SetupRuntime } from './setup-options.ts';

const root = mkdtempSync(join(tmpdir(), 'pipetrain-setup-options-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A Node "installation": bin/node and include/node headers of `version`. */
function nodeInstall(name: string, version = 'v24.22.3'): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'include', 'node'), { recursive: true });
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'include', 'node', 'node_api.h'), '');
  const [major, minor, patch] = version.slice(1).split('.');
  writeFileSync(join(dir, 'include', 'node', 'node_version.h'), `#define NODE_MAJOR_VERSION ${major}\n#define NODE_MINOR_VERSION ${minor}\n#define NODE_PATCH_VERSION ${patch}\n`);
  return dir;
}

const project = join(root, 'project');
mkdirSync(project);
writeFileSync(join(project, 'package.json'), '{}');
const node = nodeInstall('node24');
const runtime = (env: NodeJS.ProcessEnv = { HOME: '/home/u' }): SetupRuntime => ({ env, execPath: join(node, 'bin', 'node'), nodeVersion: 'v24.22.3', projectRoot: project });

test('defaults: cpu, this checkout, ~/.cache/pipetrain, the headers next to this Node, python3', () => {
  const options = resolveSetupOptions({}, runtime());
  assert.deepEqual(options, { variant: 'cpu', prefix: project, cacheRoot: '/home/u/.cache/pipetrain', nodedir: node, python: 'python3', wheel: undefined, copy: false, keepWheel: false, force: false });
});

test('environment variables configure a Dockerfile build stage; flags win over them', () => {
  const env = { PIPETRAIN_TF_VARIANT: 'gpu', PIPETRAIN_TF_PREFIX: project, PIPETRAIN_TF_CACHE_DIR: '/opt/cache', PIPETRAIN_TF_COPY: '1', PYTHON: 'python3.11', PIPETRAIN_TF_WHEEL: '/w/x.whl' };
  const options = resolveSetupOptions({}, runtime(env));
  assert.deepEqual([options.variant, options.cacheRoot, options.copy, options.python, options.wheel], ['gpu', '/opt/cache', true, 'python3.11', '/w/x.whl']);
  assert.equal(resolveSetupOptions({ variant: 'cpu', cacheDir: '/c' }, runtime(env)).cacheRoot, '/c');
});

test('one-line errors with a fix: no cache folder, bad variant, a prefix without package.json', () => {
  assert.throws(() => resolveSetupOptions({}, runtime({})), /no cache folder: neither XDG_CACHE_HOME nor HOME is set/);
  assert.throws(() => resolveSetupOptions({ variant: 'tpu' }, runtime()), /--variant tpu: unknown variant/);
  assert.throws(() => resolveSetupOptions({ prefix: root }, runtime()), /no package\.json there/);
});

test("Node's headers: found next to the binary, checked against this Node's version, or given", () => {
  assert.equal(headersVersion(node), 'v24.22.3');
  const old = nodeInstall('node20', 'v20.20.2');
  assert.throws(() => findNodeHeaders(undefined, { execPath: join(old, 'bin', 'node'), nodeVersion: 'v24.22.3' }), /headers next to .* are Node v20\.20\.2, this is Node v24\.22\.3/);
  assert.equal(findNodeHeaders(old, { execPath: '/elsewhere/bin/node', nodeVersion: 'v24.22.3' }), old);
  assert.throws(() => findNodeHeaders(undefined, { execPath: '/nowhere/bin/node', nodeVersion: 'v24.22.3' }), /Node's headers not found .* only package registries are reachable/);
});
