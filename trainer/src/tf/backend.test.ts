// Backend choice: `auto` falls through the native backends to wasm with one line of reasons; an
// explicit native backend that is unavailable fails with the setup command. The file checks are
// replaced by fakes here; wasm is initialised for real.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendUnavailableError, describeBackend, initBackend } from './backend.ts';
import type { NativeStatus } from './native-probe.ts';

const notBuilt = (choice: 'tensorflow' | 'tensorflow-gpu'): NativeStatus => ({
  ok: false, choice, kind: 'binding-absent', reason: 'binding not built (npm ci removes it)', fix: `run npm run setup:tensorflow${choice === 'tensorflow-gpu' ? ' -- --variant gpu' : ''}`,
});

test('auto without native backends picks wasm and says why each native one was skipped', async () => {
  const backend = await initBackend('auto', { probe: (choice) => (choice === 'tensorflow-gpu' ? { ok: false, choice, kind: 'no-gpu', reason: 'no NVIDIA GPU device (/dev/nvidia0)', fix: '' } : notBuilt(choice)) });
  assert.equal(backend.choice, 'wasm');
  assert.equal(backend.name, 'wasm');
  assert.deepEqual(backend.skipped.map((s) => [s.choice, s.broken]), [['tensorflow-gpu', false], ['tensorflow', false]]);
  assert.equal(describeBackend(backend), 'Backend: wasm (tensorflow-gpu skipped: no NVIDIA GPU device (/dev/nvidia0); tensorflow skipped: binding not built (npm ci removes it); run npm run setup:tensorflow)');
});

test('a native backend that passes the file checks but fails to load falls back, marked broken, in one line', async () => {
  const backend = await initBackend('auto', {
    probe: (choice) => (choice === 'tensorflow' ? { ok: true, choice, packageName: '@tensorflow/tfjs-node', packageDir: '/nonexistent/tfjs-node', bindingPath: '/nonexistent/b.node' } : notBuilt(choice)),
  });
  assert.equal(backend.choice, 'wasm');
  const skipped = backend.skipped.find((s) => s.choice === 'tensorflow')!;
  assert.equal(skipped.broken, true);
  assert.match(skipped.reason, /^\/nonexistent\/tfjs-node is not installed; run npm run setup:tensorflow$/);
  assert.ok(!describeBackend(backend).includes('\n'));
});

test('an explicit native backend that is unavailable fails with the setup command, no fallback', async () => {
  await assert.rejects(initBackend('tensorflow', { probe: notBuilt }), (error: Error) => {
    assert.ok(error instanceof BackendUnavailableError);
    assert.equal(error.message, 'spec.training.backend: tensorflow unavailable: binding not built (npm ci removes it); run npm run setup:tensorflow');
    return true;
  });
});

test('wasm and cpu need no probe and skip nothing', async () => {
  for (const choice of ['wasm', 'cpu'] as const) {
    const backend = await initBackend(choice, { probe: () => assert.fail('no native probe for wasm or cpu') });
    assert.deepEqual([backend.name, backend.skipped], [choice, []]);
  }
});
