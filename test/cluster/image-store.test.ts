// Image references resolve as a runtime resolves them, and a store lists what images:build exported.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findImage, normalizeReference, readAllStores, readStore, writeStore, type StoredImage } from './image-store.ts';

test('normalizeReference adds docker.io/library and :latest where a runtime would', () => {
  assert.equal(normalizeReference('busybox'), 'docker.io/library/busybox:latest');
  assert.equal(normalizeReference('me/app:1'), 'docker.io/me/app:1');
  assert.equal(normalizeReference('ghcr.io/pipetrain/pipetrain'), 'ghcr.io/pipetrain/pipetrain:latest');
  assert.equal(normalizeReference('localhost:5000/a'), 'localhost:5000/a:latest');
  assert.equal(normalizeReference('ghcr.io/x/y@sha256:ab'), 'ghcr.io/x/y@sha256:ab');
});

test("findImage prefers the test's own images, then the store; an unknown image is undefined", () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipetrain-store-'));
  const file = join(dir, 'store.json');
  const built: StoredImage = { rootfs: '/r', config: { Entrypoint: ['node'], User: '1000:1000' }, inputs: 'abc' };
  assert.deepEqual(readStore(file), {});
  writeStore({ 'ghcr.io/pipetrain/pipetrain:0.1.0': built }, file);
  assert.deepEqual(readStore(file)['ghcr.io/pipetrain/pipetrain:0.1.0'], built);
  assert.deepEqual(findImage('ghcr.io/pipetrain/pipetrain:0.1.0', {}, file), built);
  const own: StoredImage = { rootfs: null, config: {} };
  assert.equal(findImage('ghcr.io/pipetrain/pipetrain:0.1.0', { 'ghcr.io/pipetrain/pipetrain:0.1.0': own }, file), own);
  assert.equal(findImage('busybox', { 'docker.io/library/busybox:latest': own }, file), own);
  assert.equal(findImage('ghcr.io/pipetrain/pipetrain:9.9.9', {}, file), undefined);
  rmSync(dir, { recursive: true });
});

test("the store of a checkout that is gone is deleted, so its root file systems can be pruned", () => {
  const stores = mkdtempSync(join(tmpdir(), 'pipetrain-stores-'));
  try {
    const image: StoredImage = { rootfs: '/r/stage-1', config: {}, target: 'stage', inputs: 'x' };
    writeStore({ 'pipetrain/stage:dev': image }, join(stores, 'here.json'));
    writeFileSync(join(stores, 'gone.json'), JSON.stringify({ checkout: join(stores, 'no-such-checkout'), images: { 'pipetrain/stage:dev': { ...image, rootfs: '/r/stage-0' } } }));
    writeFileSync(join(stores, 'old.json'), JSON.stringify({ images: { 'pipetrain/stage:dev': { ...image, rootfs: '/r/stage-2' } } }));
    const all = readAllStores(stores);
    assert.deepEqual(Object.keys(all).sort(), ['here.json:pipetrain/stage:dev', 'old.json:pipetrain/stage:dev']);
    assert.equal(existsSync(join(stores, 'gone.json')), false);
    mkdirSync(join(stores, 'empty'));
    assert.deepEqual(readAllStores(join(stores, 'empty')), {});
  } finally {
    rmSync(stores, { recursive: true, force: true });
  }
});
