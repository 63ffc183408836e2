import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBackendAvailable } from './backend-availability.ts';
import type { NativeStatus } from './native-probe.ts';

const ready = (choice: 'tensorflow' | 'tensorflow-gpu'): NativeStatus => ({ ok: true, choice, packageName: 'p', packageDir: '/p', bindingPath: '/p/b' });

test('an explicit native backend that is not set up is a problem of spec.training.backend with the setup command', () => {
  const check = checkBackendAvailable('tensorflow', (choice) => ({ ok: false, choice, kind: 'binding-absent', reason: 'binding not built (npm ci removes it)', fix: 'run npm run setup:tensorflow' }));
  assert.deepEqual(check.problems, [{ path: 'spec.training.backend', message: 'tensorflow unavailable: binding not built (npm ci removes it); run npm run setup:tensorflow' }]);
});

test('auto, wasm and cpu never fail validation (auto falls back)', () => {
  const failing = (): NativeStatus => assert.fail('must not probe');
  for (const backend of ['auto', 'wasm', 'cpu']) assert.deepEqual(checkBackendAvailable(backend, failing), { problems: [], warnings: [] });
});

test('tensorflow-gpu without a GPU validates, with a warning that it runs on the CPU', () => {
  const check = checkBackendAvailable('tensorflow-gpu', (choice, options) => options.requireGpuDevice
    ? { ok: false, choice, kind: 'no-gpu', reason: 'no NVIDIA GPU device (/dev/nvidia0)', fix: '' }
    : ready(choice));
  assert.deepEqual(check.problems, []);
  assert.match(check.warnings[0]!, /tensorflow-gpu: no NVIDIA GPU device .* on the CPU/);
});
