import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipFailure, wheelPlatformProblem, WHEELS } from './wheel.ts';

test('only a linux wheel for this machine passes the platform check', () => {
  assert.equal(wheelPlatformProblem(`/w/${WHEELS.cpu.filename}`, 'linux', 'x64'), undefined);
  assert.match(wheelPlatformProblem('tensorflow_cpu-2.15.1-cp311-cp311-macosx_10_15_x86_64.whl', 'linux', 'x64')!, /wheel for macosx_10_15_x86_64, not for this linux-x64 machine/);
  assert.match(wheelPlatformProblem('tensorflow_cpu-2.15.1-cp311-cp311-win_amd64.whl', 'linux', 'x64')!, /win_amd64/);
  assert.match(wheelPlatformProblem(WHEELS.cpu.filename, 'linux', 'arm64')!, /linux-arm64/);
  assert.match(wheelPlatformProblem('tensorflow.tar.gz', 'linux', 'x64')!, /not a wheel file/);
});

test("pip's failures are told apart: registry unreachable, no such wheel, anything else; each with a fix", () => {
  const unreachable = pipFailure(WHEELS.cpu, "WARNING: Retrying ... NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection>: Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')\nERROR: Could not find a version that satisfies the requirement tensorflow-cpu==2.15.1 (from versions: none)\nERROR: No matching distribution found for tensorflow-cpu==2.15.1");
  assert.match(unreachable.line(), /^PyPI is unreachable \(pip: ERROR: No matching distribution found for tensorflow-cpu==2\.15\.1\)\. Fix: check the network or proxy .*--wheel FILE$/);
  const missing = pipFailure(WHEELS.cpu, 'ERROR: Could not find a version that satisfies the requirement tensorflow-cpu==2.15.1 (from versions: 2.16.1)\nERROR: No matching distribution found for tensorflow-cpu==2.15.1');
  assert.match(missing.message, /has no tensorflow-cpu==2\.15\.1 wheel for manylinux x86_64/);
  const nothing = pipFailure(WHEELS.cpu, 'ERROR: Could not find a version that satisfies the requirement tensorflow-cpu==2.15.1 (from versions: none)');
  assert.match(nothing.message, /offered no tensorflow-cpu at all: it is unreachable, or a mirror without it/);
  assert.match(pipFailure(WHEELS.cpu, 'ERROR: out of cheese').message, /pip could not download tensorflow-cpu==2\.15\.1 \(pip: ERROR: out of cheese\)/);
});
