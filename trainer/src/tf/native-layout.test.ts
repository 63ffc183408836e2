import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultCacheRoot, napiBuildVersion, packagePaths, setupCommandFor, variantCacheDir } from './native-layout.ts';

test('the N-API folder is the highest version the package lists that this Node supports', () => {
  assert.equal(napiBuildVersion([3, 4, 5, 6, 7, 8], 10), 8);
  assert.equal(napiBuildVersion([3, 4, 5, 6, 7, 8], 6), 6);
  assert.equal(napiBuildVersion([3, 4], 2), undefined);
  assert.equal(napiBuildVersion([], 9), undefined);
});

test('the cache follows XDG_CACHE_HOME, then HOME, and is undefined without either', () => {
  assert.equal(defaultCacheRoot({ XDG_CACHE_HOME: '/x', HOME: '/h' }), '/x/pipetrain');
  assert.equal(defaultCacheRoot({ HOME: '/h' }), '/h/.cache/pipetrain');
  assert.equal(variantCacheDir('/c', 'gpu'), '/c/tensorflow-2.15.1-gpu');
});

test('binding and libraries sit where tfjs-node loads them', () => {
  const paths = packagePaths('/m/@tensorflow/tfjs-node', 8);
  assert.equal(paths.binding, '/m/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node');
  assert.equal(paths.libDir, '/m/@tensorflow/tfjs-node/deps/lib');
  assert.equal(setupCommandFor('gpu'), 'npm run setup:tensorflow -- --variant gpu');
});
