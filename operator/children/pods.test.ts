import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PipelineJobSchema } from '../../trainer/src/api/schema.ts';
import { CONFIG_ENV } from '../../trainer/src/contract/index.ts';
import { buildCheckpointClaim, buildHeadlessService } from './job-children.ts';
import { ownerReference } from '../policy/job.ts';
import { buildPreparePod, buildStagePod, SOURCE_VOLUME } from './pods.ts';
import { jobObject } from '../../test/support/operator-builders.ts';

function parsed(spec: (s: Record<string, unknown>) => void = () => undefined) {
  const object = jobObject(spec);
  const job = PipelineJobSchema.parse({ apiVersion: object.apiVersion, kind: object.kind, metadata: { name: 'tiny' }, spec: object.spec });
  return { object, job };
}

test('a stage pod: names, labels, owner, DNS, env, probe and a locked-down security context', () => {
  const { object, job } = parsed((s) => {
    s.resources = { limits: { 'nvidia.com/gpu': 1, memory: '1Gi' }, requests: { cpu: '1' } };
    s.nodeSelector = { pool: 'gpu' };
    s.tolerations = [{ key: 'gpu', operator: 'Exists' }];
    s.checkpoint = { path: '/ckpt', persistentVolumeClaim: { claimName: 'shared' } };
  });
  const pod = buildStagePod({ job, namespace: 'ns', owner: ownerReference(object), partition: [2, 1, 1], stage: 1, attempt: 2, defaultImage: 'img', command: ['node', 'stage'], avoidNodes: ['node-9'], checkpointClaim: 'shared' });
  assert.equal(pod.metadata?.name, 'tiny-stage-1');
  assert.equal(pod.metadata?.labels?.['pipetrain.io/attempt'], '2');
  assert.equal(pod.metadata?.ownerReferences?.[0]?.controller, true);
  assert.equal(pod.spec?.hostname, 'tiny-stage-1');
  assert.equal(pod.spec?.subdomain, 'tiny');
  assert.equal(pod.spec?.restartPolicy, 'Never');
  assert.equal(pod.spec?.automountServiceAccountToken, false);
  assert.deepEqual(pod.spec?.nodeSelector, { pool: 'gpu' });
  assert.equal(pod.spec?.tolerations?.[0]?.key, 'gpu');
  assert.deepEqual(pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values, ['node-9']);
  assert.equal(pod.spec?.securityContext?.seccompProfile?.type, 'RuntimeDefault');
  assert.equal(pod.spec?.securityContext?.runAsNonRoot, true);
  const c = pod.spec?.containers[0];
  assert.deepEqual(c?.securityContext, { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  assert.deepEqual(c?.resources?.requests, { cpu: '1', 'nvidia.com/gpu': '1' }, 'extended resources requested as limited');
  assert.equal(c?.readinessProbe?.httpGet?.path, '/healthz');
  assert.equal(c?.image, 'img');
  const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e]));
  const config = JSON.parse(env.PIPETRAIN_STAGE_CONFIG?.value ?? '{}') as { stage: number; partition: number[]; downstreamUrl: string; metricsPort: number; listenHost: string };
  assert.equal(config.stage, 1);
  assert.deepEqual(config.partition, [2, 1, 1]);
  assert.equal(config.downstreamUrl, 'ws://tiny-stage-2.tiny.ns.svc.cluster.local:7400');
  assert.equal(config.listenHost, '0.0.0.0');
  assert.deepEqual(env.PIPETRAIN_TOKEN?.valueFrom?.secretKeyRef, { name: 'tiny-token', key: 'token' });
  // TensorFlow's bits depend on its intra-op thread count and oneDNN switch: pinned on every pod.
  assert.deepEqual(Object.keys(env).sort(), ['PIPETRAIN_STAGE_CONFIG', 'PIPETRAIN_TOKEN', 'TF_ENABLE_ONEDNN_OPTS', 'TF_NUM_INTEROP_THREADS', 'TF_NUM_INTRAOP_THREADS'], 'only variables the stage reads');
  assert.deepEqual([env.TF_NUM_INTRAOP_THREADS?.value, env.TF_NUM_INTEROP_THREADS?.value, env.TF_ENABLE_ONEDNN_OPTS?.value], ['1', '1', '1']);
  assert.equal(pod.metadata?.labels?.['pipetrain.io/attempt'], '2');
  assert.ok(c?.volumeMounts?.some((m) => m.mountPath === '/ckpt' && m.name === 'checkpoints'));
  assert.ok(pod.spec?.volumes?.some((v) => v.persistentVolumeClaim?.claimName === 'shared'));
});

test('the last stage has no downstream; the first listens on no link port', () => {
  const { object, job } = parsed();
  const build = (stage: number) => buildStagePod({ job, namespace: 'ns', owner: ownerReference(object), partition: [2, 1, 1], stage, attempt: 0, defaultImage: 'img', command: ['x'] });
  const config = build(2).spec?.containers[0]?.env?.find((e) => e.name === CONFIG_ENV)?.value;
  assert.ok(config, 'the stage config is in the environment');
  const last = JSON.parse(config) as { downstreamUrl?: string };
  assert.equal(last.downstreamUrl, undefined);
  assert.ok(!build(0).spec?.containers[0]?.ports?.some((p) => p.name === 'link'));
  assert.equal(build(0).spec?.affinity, undefined);
});

test('headless Service and a claim from the template (kept with the job unless deleteWithJob)', () => {
  const { object, job } = parsed((s) => (s.checkpoint = { path: '/ckpt', volumeClaimTemplate: { storage: '1Gi' } }));
  const svc = buildHeadlessService(job, 'ns', ownerReference(object));
  assert.equal(svc.spec?.clusterIP, 'None');
  assert.equal(svc.spec?.publishNotReadyAddresses, true);
  const claim = buildCheckpointClaim(job, 'ns', ownerReference(object));
  assert.equal(claim?.metadata?.name, 'tiny-checkpoints');
  assert.deepEqual(claim?.spec?.accessModes, ['ReadWriteMany']);
  assert.equal(claim?.metadata?.ownerReferences, undefined, 'checkpoints outlive the job by default');
  const owned = parsed((s) => (s.checkpoint = { path: '/ckpt', volumeClaimTemplate: { storage: '1Gi', deleteWithJob: true } }));
  assert.equal(buildCheckpointClaim(owned.job, 'ns', ownerReference(owned.object))?.metadata?.ownerReferences?.length, 1);
});

test('checkpoints without a claim go to an emptyDir at spec.checkpoint.path (the root is read-only)', () => {
  const { object, job } = parsed((s) => (s.checkpoint = { path: '/ckpt' }));
  const pod = buildStagePod({ job, namespace: 'ns', owner: ownerReference(object), partition: [2, 1, 1], stage: 0, attempt: 0, defaultImage: 'img', command: ['x'] });
  assert.deepEqual(pod.spec?.volumes?.find((v) => v.name === 'checkpoints'), { name: 'checkpoints', emptyDir: {} });
  assert.ok(pod.spec?.containers[0]?.volumeMounts?.some((m) => m.mountPath === '/ckpt' && m.name === 'checkpoints'));
});

test('spec.model.from.persistentVolumeClaim is mounted read-only on every stage pod, not on the preparation pod', () => {
  const { object, job } = parsed((s) => {
    s.checkpoint = { path: '/ckpt', persistentVolumeClaim: { claimName: 'mine' } };
    (s.model as Record<string, unknown>).from = { checkpoint: { path: '/source/run' }, persistentVolumeClaim: { claimName: 'theirs', mountPath: '/source' } };
  });
  const input = { job, namespace: 'ns', owner: ownerReference(object), partition: [2, 1, 1], defaultImage: 'img', command: ['x'], checkpointClaim: 'mine' };
  for (const stage of [0, 1, 2]) {
    const pod = buildStagePod({ ...input, stage, attempt: 0 });
    assert.deepEqual(pod.spec?.volumes?.find((v) => v.name === SOURCE_VOLUME), { name: SOURCE_VOLUME, persistentVolumeClaim: { claimName: 'theirs', readOnly: true } });
    assert.deepEqual(pod.spec?.containers[0]?.volumeMounts?.find((m) => m.name === SOURCE_VOLUME), { name: SOURCE_VOLUME, mountPath: '/source', readOnly: true });
    assert.ok(pod.spec?.containers[0]?.volumeMounts?.some((m) => m.mountPath === '/ckpt' && !m.readOnly), 'the job\'s own claim stays writable');
  }
  const prepare = buildPreparePod({ ...input, attempt: 0 });
  assert.ok(!prepare.spec?.volumes?.some((v) => v.name === SOURCE_VOLUME));
  assert.ok(!prepare.spec?.containers[0]?.volumeMounts?.some((m) => m.name === SOURCE_VOLUME));
  assert.ok(prepare.spec?.volumes?.some((v) => v.name === 'checkpoints'), 'the preparation pod keeps the job\'s claim');
  const plain = parsed();
  assert.ok(!buildStagePod({ ...input, job: plain.job, stage: 0, attempt: 0 }).spec?.volumes?.some((v) => v.name === SOURCE_VOLUME), 'no source claim, no volume');
});
