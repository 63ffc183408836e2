// The setup's failures, each run for real (real Python, real pip against an unreachable index) into
// a temp cache: one line on stderr with the reason and the fix, exit status 1, no stack trace.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WHEELS } from './wheel.ts';

const SCRIPT = fileURLToPath(new URL('./tensorflow-setup.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'pipetrain-setup-'));
after(() => rmSync(root, { recursive: true, force: true }));

function setup(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [SCRIPT, '--cache-dir', join(root, 'cache'), ...args], {
    encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000,
  });
  const lines = result.stderr.trim().split('\n');
  return { status: result.status, last: lines.at(-1)!, stderr: result.stderr };
}

function assertOneLineFailure(run: ReturnType<typeof setup>, reason: RegExp): void {
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.last, /^setup:tensorflow: .+\. Fix: .+$/);
  assert.match(run.last, reason);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
}

test('a wheel of another platform is refused by name', () => {
  const wheel = join(root, 'tensorflow_cpu-2.15.1-cp311-cp311-macosx_10_15_x86_64.whl');
  writeFileSync(wheel, 'not really a wheel');
  assertOneLineFailure(setup(['--wheel', wheel]), /is a wheel for macosx_10_15_x86_64, not for this linux-x64 machine\. Fix: pass the manylinux x86_64 wheel/);
});

test('a file named like the pinned wheel but with other content is refused by its sha256', () => {
  const wheel = join(root, WHEELS.cpu.filename);
  writeFileSync(wheel, 'tampered');
  assertOneLineFailure(setup(['--wheel', wheel]), /is not the pinned tensorflow-cpu==2\.15\.1 wheel \(sha256 /);
});

test('no Python: says so and how to get it', () => {
  assertOneLineFailure(setup([], { PYTHON: join(root, 'no-such-python3') }), /no-such-python3 not found: pip needs Python .* Fix: install Python 3 with pip/);
});

test('a Python without pip: says so and how to get it', () => {
  const python = join(root, 'python-without-pip');
  writeFileSync(python, '#!/bin/sh\n# -S skips site-packages, where pip lives\nexec python3 -S "$@"\n');
  chmodSync(python, 0o755);
  assertOneLineFailure(setup([], { PYTHON: python }), /has no pip .* Fix: install pip \(Debian: apt-get install python3-pip\)/);
});

test('an unreachable package index: says so, and how to work around it', () => {
  // Port 9 on loopback refuses connections; one retry (pip only reports connection errors when it
  // retries), no other wheel sources.
  const run = setup([], { PIP_INDEX_URL: 'http://127.0.0.1:9/simple', PIP_FIND_LINKS: '', PIP_RETRIES: '1', PIP_TIMEOUT: '5', PIP_CONFIG_FILE: '/dev/null' });
  assertOneLineFailure(run, /PyPI is unreachable \(pip: .+\)\. Fix: check the network or proxy .* pass --wheel FILE/);
});

test('--help lists the options a Dockerfile needs', () => {
  const help = spawnSync(process.execPath, [SCRIPT, '--help'], { encoding: 'utf8' }).stdout;
  for (const option of ['--variant', '--prefix', '--cache-dir', '--nodedir', '--wheel', '--copy', 'PIPETRAIN_TF_VARIANT']) assert.ok(help.includes(option), option);
});
