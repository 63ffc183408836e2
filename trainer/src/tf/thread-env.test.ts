import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TENSORFLOW_ENV, tensorflowEnvEntries } from '../contract/index.ts';
import { pinTensorflowEnv } from './thread-env.ts';

test('pins the thread and oneDNN variables, keeping values the user exported', () => {
  const env: NodeJS.ProcessEnv = { TF_NUM_INTRAOP_THREADS: '4' };
  pinTensorflowEnv(env);
  assert.equal(env.TF_NUM_INTRAOP_THREADS, '4');
  assert.equal(env.TF_NUM_INTEROP_THREADS, TENSORFLOW_ENV.TF_NUM_INTEROP_THREADS);
  assert.equal(env.TF_ENABLE_ONEDNN_OPTS, TENSORFLOW_ENV.TF_ENABLE_ONEDNN_OPTS);
  assert.equal(env.TF_CPP_MIN_LOG_LEVEL, '1');
});

test('pod env entries carry exactly the pinned values', () => {
  assert.deepEqual(Object.fromEntries(tensorflowEnvEntries().map((e) => [e.name, e.value])), TENSORFLOW_ENV);
});
