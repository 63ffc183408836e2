import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobObject } from '../../test/support/operator-builders.ts';
import { validateJob } from './job.ts';
import { isUnder } from './source-volume.ts';

type From = Record<string, unknown>;
const CLAIM = { path: '/ckpt', everySteps: 2, persistentVolumeClaim: { claimName: 'mine' } };

/** validateJob (schema, semantic checks, the operator's own) of the tiny job with `from` and `checkpoint`. */
/** `checkpoint` null: the job saves no checkpoints (so mounts no claim of its own). */
function validated(from: From, checkpoint: Record<string, unknown> | null = CLAIM) {
  return validateJob(jobObject((s) => {
    (s.model as Record<string, unknown>).from = from;
    if (checkpoint) s.checkpoint = checkpoint;
  }));
}

const message = (result: ReturnType<typeof validated>): string => (result.ok ? '' : result.message);

test('a source on the job\'s claim (under spec.checkpoint.path) or under the source claim\'s mountPath is accepted', () => {
  assert.equal(validated({ checkpoint: { path: '/ckpt/pretrain', step: 4 } }).ok, true);
  assert.equal(validated({ tfjsLayers: '/ckpt/models/model.json' }).ok, true);
  assert.equal(validated({ huggingface: '/source/gpt2', persistentVolumeClaim: { claimName: 'theirs', mountPath: '/source' } }).ok, true);
  assert.match(message(validated({ huggingface: '/models/gpt2' })), /^spec\.model\.from\.huggingface \("\/models\/gpt2"\) is on no volume the stage pods mount/);
  assert.equal(validated({ checkpoint: { path: '/source' }, persistentVolumeClaim: { claimName: 'theirs', mountPath: '/source' } }).ok, true);
  assert.equal(validated({ checkpoint: { path: '/source/run/' }, persistentVolumeClaim: { claimName: 'theirs', mountPath: '/source' } }, null).ok, true, 'a job without checkpoints may read from a claim');
  assert.equal(validated({ tfjsLayers: '/models/m/model.json' }, { ...CLAIM, persistentVolumeClaim: undefined, volumeClaimTemplate: { storage: '1Gi' } }).ok, false);
});

test('a source path on no mounted volume is InvalidSpec naming the field, the path and where it may be', () => {
  assert.match(message(validated({ checkpoint: { path: '/elsewhere/pretrain' } })), /^spec\.model\.from\.checkpoint\.path \("\/elsewhere\/pretrain"\) is on no volume the stage pods mount: give an absolute path under spec\.checkpoint\.path \("\/ckpt", the job's claim\), or name the claim holding the source in spec\.model\.from\.persistentVolumeClaim \{claimName, mountPath\}$/);
  assert.match(message(validated({ checkpoint: { path: 'pretrain' } })), /spec\.model\.from\.checkpoint\.path \("pretrain"\) is on no volume the stage pods mount \(stage pods have no job file to resolve a relative path against\)/);
  assert.match(message(validated({ checkpoint: { path: '/ckpt/../etc' } })), /is on no volume/, '.. leaves the mount');
  assert.match(message(validated({ checkpoint: { path: '/ckptx/a' } })), /is on no volume/, 'a name that only starts like the mount');
  assert.match(message(validated({ tfjsLayers: '/ckpt/m.json', persistentVolumeClaim: { claimName: 'theirs', mountPath: '/source' } }, null)), /^spec\.model\.from\.tfjsLayers \("\/ckpt\/m\.json"\) is on no volume the stage pods mount: give an absolute path under spec\.model\.from\.persistentVolumeClaim\.mountPath \("\/source", claim theirs, read-only\)$/);
  assert.match(message(validated({ checkpoint: { path: '/ckpt/a' } }, { path: '/ckpt' })), /the job mounts no claim: give spec\.checkpoint a persistentVolumeClaim or volumeClaimTemplate/, 'an emptyDir holds no source');
});

test('the source claim\'s mountPath: absolute, not /, and apart from the job\'s claim and /tmp', () => {
  const at = (mountPath: string) => message(validated({ checkpoint: { path: `${mountPath}/x` }, persistentVolumeClaim: { claimName: 'theirs', mountPath } }));
  assert.match(at('source'), /^spec\.model\.from\.persistentVolumeClaim\.mountPath must be an absolute folder other than \/, got "source"/);
  assert.match(message(validated({ checkpoint: { path: '/x' }, persistentVolumeClaim: { claimName: 'theirs', mountPath: '/' } })), /must be an absolute folder other than \//);
  assert.match(at('/ckpt/source'), /mountPath \("\/ckpt\/source"\) overlaps spec\.checkpoint\.path \("\/ckpt"\)/);
  assert.match(at('/tmp'), /overlaps the pod's scratch folder/);
});

test('isUnder: the folder itself and what is inside it, after normalizing', () => {
  assert.equal(isUnder('/a', '/a/'), true);
  assert.equal(isUnder('/a/b//c', '/a'), true);
  assert.equal(isUnder('/ab', '/a'), false);
  assert.equal(isUnder('/a/../b', '/a'), false);
});
