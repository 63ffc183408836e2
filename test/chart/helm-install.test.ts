// The chart on the test control plane (test/cluster): `helm install` → the operator Deployment becomes
// Available (its pod run by the node agent from the built operator image, or the checkout when the
// images are not built: test/cluster/images.ts) under the chart's ServiceAccount and RBAC, with leader election on → a
// PipelineJob with a checkpoint volume trains under the Helm-installed operator → `helm upgrade` with a
// changed value rolls the operator (new ReplicaSet, new pod, new leader) while the job's stage pods keep
// running → the job Succeeds with the weights digest of local training → `helm uninstall` removes the
// release's objects and keeps the CRD, the PipelineJob and its checkpoint PVC.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import * as k8sRuntime from '@kubernetes/client-node';
import { claimCheckpoint, createJob, getJob, isFinished, localDigest, stagePods, tinyJob, waitForJob } from '../e2e/operator/helpers.ts';
import type { ClusterClient } from '../cluster/control.ts';
import { useCluster } from '../cluster/harness.ts';
import { statusCode, waitFor } from '../cluster/util.ts';
import { builtImage } from '../images/build.ts';
import { CHART_DIR, parseObjects, REPO_ROOT, type K8sObject } from './helm.ts';

const cluster = useCluster({ podSecurity: 'restricted' });

const RELEASE = 'pt';
const FULLNAME = 'pt-pipetrain';
const DEPLOYMENT = `${FULLNAME}-operator`;
const JOB = 'helmjob';
// 20–40 steps/s on this machine (2 cores, loaded): 75–150 s of training, several times the 15–25 s rollout.
const STEPS = 3000;

/** Runs the cluster's pinned helm against the test cluster, with its own (temporary) helm home. */
function helmOn(client: ClusterClient, home: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      join(client.state.binDir, 'helm'),
      args,
      {
        cwd: REPO_ROOT,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 150_000,
        env: { ...process.env, KUBECONFIG: client.state.kubeconfig, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') },
      },
      (err, stdout, stderr) => (err ? reject(new Error(`helm ${args.join(' ')}:\n${stderr || err.message}\n${stdout}`)) : resolve(stdout)),
    );
  });
}

async function operatorPods(client: ClusterClient, namespace: string): Promise<k8s.V1Pod[]> {
  const list = await client.core.listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=operator` });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

async function leaseHolder(client: ClusterClient, namespace: string): Promise<string | undefined> {
  const lease = await client.kc.makeApiClient(k8sRuntime.CoordinationV1Api).readNamespacedLease({ name: 'pipetrain-operator', namespace }).catch(() => undefined);
  return lease?.spec?.holderIdentity ?? undefined;
}

const isAvailable = (d: k8s.V1Deployment): boolean => d.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false;
const podUids = (pods: k8s.V1Pod[]): string[] => pods.map((p) => `${p.metadata?.name}=${p.metadata?.uid}`).sort();

/** `kubectl auth can-i …`: its stdout ("yes"/"no"; it exits 1 on "no"). */
function canI(client: ClusterClient, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(join(client.state.binDir, 'kubectl'), ['--kubeconfig', client.state.kubeconfig, 'auth', 'can-i', ...args], (err, stdout, stderr) => {
      const answer = stdout.trim();
      if (answer === 'yes' || answer === 'no') resolve(answer);
      else reject(new Error(`kubectl auth can-i ${args.join(' ')}: ${stderr || err?.message}`));
    });
  });
}

/** Whether an object of the release's manifest still exists (kubectl get by kind/name). */
async function exists(client: ClusterClient, obj: K8sObject, namespace: string): Promise<boolean> {
  const ns = obj.metadata.namespace ?? namespace;
  const clusterScoped = ['ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition'].includes(obj.kind);
  const out = await client.kubectl(['get', `${obj.kind}.${obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0] : ''}`.replace(/\.$/, ''), obj.metadata.name, ...(clusterScoped ? [] : ['-n', ns]), '--ignore-not-found', '-o', 'name']);
  return out.trim() !== '';
}

/** Whether the operator and stage images are built; built from other sources than the checkout's is a failure. */
function imagesBuilt(): boolean {
  const images = (['operator', 'stage'] as const).map((target) => builtImage(target));
  if (images.every((image) => image.state === 'missing')) return false;
  for (const image of images) assert.equal(image.state, 'current', `${image.reference} is ${image.state}: run \`npm run images:build\``);
  return true;
}

cluster.test(
  'helm install → operator Available → job trains → helm upgrade rolls the operator, not the job → Succeeded with the local digest → helm uninstall keeps CRD and PVC',
  async ({ client, namespace, t }) => {
    const home = mkdtempSync(join(tmpdir(), 'pipetrain-helm-'));
    const started = Date.now();
    const mark = (what: string): void => t.diagnostic(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
    try {
      // With the images built (npm run images:build), the chart's default values run the operator and the
      // stages from them. Without, the agent runs the checkout for our images, and the stages need its path.
      const built = imagesBuilt();
      mark(built ? 'pods run from the built images with the chart defaults' : 'images not built: pods run the checkout');
      const values = [
        ...(built ? [] : ['--set', `operator.stageCommand=${process.execPath} ${REPO_ROOT}trainer/bin/pipetrain.js stage`]),
        '--set', 'operator.workers=2',
      ];

      // 1. helm install: CRD (crds/), ServiceAccount, RBAC, Service, Deployment → Available.
      const installed = await helmOn(client, home, ['install', RELEASE, CHART_DIR, '--namespace', namespace, ...values, '--wait', '--timeout', '120s']);
      assert.match(installed, /STATUS: deployed/);
      mark('helm install --wait returned');
      const deployment = await waitFor('operator Deployment Available', async () => {
        const d = await client.apps.readNamespacedDeployment({ name: DEPLOYMENT, namespace });
        return isAvailable(d) && d.status?.readyReplicas === 1 ? d : undefined;
      }, 60_000);
      assert.equal(deployment.spec?.template.spec?.serviceAccountName, FULLNAME);
      assert.ok(deployment.spec?.template.spec?.containers[0]?.args?.includes('--leader-elect'));
      const manifest = parseObjects(await helmOn(client, home, ['get', 'manifest', RELEASE, '--namespace', namespace]));
      const kinds = manifest.map((o) => o.kind).sort();
      for (const kind of ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Service', 'ServiceAccount']) assert.ok(kinds.includes(kind), `release has a ${kind}: ${kinds.join(', ')}`);
      await client.waitForCrdEstablished('pipelinejobs.pipetrain.io');

      // The operator pod runs under the chart's ServiceAccount, with its token mounted; it is the leader,
      // so it wrote the Lease (a MicroTime renewTime) through that ServiceAccount's RBAC.
      const [first] = await operatorPods(client, namespace);
      assert.ok(first, 'an operator pod');
      assert.equal(first.spec?.serviceAccountName, FULLNAME);
      assert.ok(first.spec?.volumes?.some((v) => v.name.startsWith('kube-api-access-')), 'service-account token volume');
      assert.equal(first.status?.phase, 'Running');
      const firstName = first.metadata!.name!;
      await waitFor('the operator pod leads', async () => (await leaseHolder(client, namespace))?.startsWith(`${firstName}_`), 60_000);
      mark(`operator pod ${firstName} leads`);
      const sa = `system:serviceaccount:${namespace}:${FULLNAME}`;
      for (const [verb, resource, subresource, expected] of [
        ['create', 'pods', '', 'yes'],
        ['update', 'pipelinejobs.pipetrain.io', 'status', 'yes'],
        ['update', 'leases.coordination.k8s.io', '', 'yes'],
        ['create', 'persistentvolumeclaims', '', 'yes'],
        ['delete', 'nodes', '', 'no'],
        ['get', 'secrets', '', 'no'],
      ] as const) {
        const answer = await canI(client, [verb, resource, ...(subresource ? [`--subresource=${subresource}`] : []), '--as', sa, '-n', namespace]);
        assert.equal(answer, expected, `${sa} can-i ${verb} ${resource} ${subresource}`);
      }

      // 2. A job with a checkpoint volume, long enough to still run during the upgrade.
      const body = tinyJob(JOB, (s) => {
        (s.training as Record<string, unknown>).steps = STEPS;
        s.checkpoint = { path: '/checkpoints', everySteps: 500, volumeClaimTemplate: { storage: '1Gi', accessModes: ['ReadWriteMany'] } };
      });
      await createJob(client, namespace, body);
      await waitForJob(client, namespace, JOB, 'training', (j) => (j.status?.phase === 'Running' && (j.status.step ?? 0) >= 2) || isFinished(j), 90_000);
      const running = await getJob(client, namespace, JOB);
      assert.equal(running.status?.phase, 'Running', 'the job must still be training at the upgrade');
      const stagesBefore = await stagePods(client, namespace, JOB);
      assert.equal(stagesBefore.length, 3);
      const uidsBefore = podUids(stagesBefore);
      const restartsBefore = running.status?.restarts ?? 0;
      mark(`job Running at step ${running.status?.step}`);

      // 3. helm upgrade with a value that changes the pod template: a new ReplicaSet and pod, a new leader.
      const rsBefore = (await client.apps.listNamespacedReplicaSet({ namespace, labelSelector: `app.kubernetes.io/instance=${RELEASE}` })).items.map((r) => r.metadata?.name);
      const upgraded = await helmOn(client, home, ['upgrade', RELEASE, CHART_DIR, '--namespace', namespace, ...values, '--set', 'operator.logFormat=text', '--wait', '--timeout', '120s']);
      assert.match(upgraded, /STATUS: deployed/);
      assert.match(upgraded, /REVISION: 2/);
      mark('helm upgrade --wait returned');
      const second = await waitFor('old operator pod gone, one new pod', async () => {
        const pods = await operatorPods(client, namespace);
        return pods.length === 1 && pods[0]!.metadata?.name !== firstName && pods[0]!.status?.phase === 'Running' ? pods[0] : undefined;
      }, 60_000);
      const secondName = second.metadata!.name!;
      assert.ok(second.spec?.containers[0]?.args?.includes('--log-format=text'));
      assert.equal(second.spec?.serviceAccountName, FULLNAME);
      const rsAfter = (await client.apps.listNamespacedReplicaSet({ namespace, labelSelector: `app.kubernetes.io/instance=${RELEASE}` })).items;
      const newRs = rsAfter.filter((r) => !rsBefore.includes(r.metadata?.name));
      assert.equal(newRs.length, 1, `one new ReplicaSet: before ${rsBefore.join(',')}, after ${rsAfter.map((r) => r.metadata?.name).join(',')}`);
      assert.equal(second.metadata?.ownerReferences?.[0]?.name, newRs[0]!.metadata?.name);
      await waitFor('old ReplicaSet scaled to 0', async () => {
        const list = (await client.apps.listNamespacedReplicaSet({ namespace, labelSelector: `app.kubernetes.io/instance=${RELEASE}` })).items;
        return list.filter((r) => rsBefore.includes(r.metadata?.name)).every((r) => (r.spec?.replicas ?? 0) === 0);
      }, 30_000);
      await waitFor('the new operator pod leads', async () => (await leaseHolder(client, namespace))?.startsWith(`${secondName}_`), 60_000);
      mark(`new operator pod ${secondName} leads`);
      // The upgraded value reached the process: text log lines, not JSON.
      const secondLog = client.podLogs(namespace, secondName).trim().split('\n').filter((l) => l.includes('Became leader'));
      assert.ok(secondLog.length > 0 && !secondLog[0]!.trimStart().startsWith('{'), `text log from the new operator: ${secondLog[0]}`);

      // The job was not disturbed: same stage pods, no restart, still progressing under the new leader.
      const afterUpgrade = await getJob(client, namespace, JOB);
      assert.equal(afterUpgrade.status?.phase, 'Running', `the job must still be training after the rollout (step ${afterUpgrade.status?.step}/${STEPS}); raise STEPS if this machine got faster`);
      assert.deepEqual(podUids(await stagePods(client, namespace, JOB)), uidsBefore, 'stage pods kept their UIDs across the operator rollout');
      assert.equal(afterUpgrade.status?.restarts ?? 0, restartsBefore, `no restart across the rollout: ${afterUpgrade.status?.lastFailure?.message ?? ''}`);
      const stepAtNewLeader = afterUpgrade.status?.step ?? 0;
      await waitForJob(client, namespace, JOB, 'progressing under the new leader', (j) => (j.status?.step ?? 0) > stepAtNewLeader || isFinished(j), 60_000);

      // 4. The job Succeeds, and its final checkpoint holds the weights of local training (computed in this
      // process while the job finishes: it takes as long as the job, so overlapping keeps the test short).
      const expected = localDigest(body);
      expected.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
      const done = await waitForJob(client, namespace, JOB, 'finished', isFinished, 240_000);
      mark(`job ${done.status?.phase}`);
      assert.equal(done.status?.phase, 'Succeeded', JSON.stringify(done.status?.conditions));
      assert.equal(done.status?.step, STEPS);
      // After the rollout a restart can only come from the test cluster (a node agent missing heartbeats on
      // a loaded machine); the operator then restarts from the checkpoint, correctly. Only report it.
      if ((done.status?.restarts ?? 0) > restartsBefore) t.diagnostic(`restarted after the rollout: ${done.status?.lastFailure?.message ?? ''}`);
      const fromPods = await claimCheckpoint(client, namespace, JOB);
      assert.equal(fromPods?.step, STEPS);
      assert.equal(fromPods?.weightsSha256, await expected);
      mark('digest matches local training');

      // 5. helm uninstall: every object of the release goes; the CRD, the job and its checkpoint PVC stay.
      const uninstalled = await helmOn(client, home, ['uninstall', RELEASE, '--namespace', namespace, '--wait', '--timeout', '90s']);
      assert.match(uninstalled, /uninstalled/);
      mark('helm uninstall --wait returned');
      for (const obj of manifest) assert.equal(await exists(client, obj, namespace), false, `${obj.kind}/${obj.metadata.name} removed`);
      await assert.rejects(client.apps.readNamespacedDeployment({ name: DEPLOYMENT, namespace }), (e: unknown) => statusCode(e) === 404);
      const rbac = client.kc.makeApiClient(k8sRuntime.RbacAuthorizationV1Api);
      await assert.rejects(rbac.readClusterRole({ name: `${FULLNAME}-operator` }), (e: unknown) => statusCode(e) === 404);
      await assert.rejects(rbac.readClusterRoleBinding({ name: `${FULLNAME}-operator` }), (e: unknown) => statusCode(e) === 404);
      await assert.rejects(client.core.readNamespacedServiceAccount({ name: FULLNAME, namespace }), (e: unknown) => statusCode(e) === 404);
      await assert.rejects(client.core.readNamespacedService({ name: `${FULLNAME}-metrics`, namespace }), (e: unknown) => statusCode(e) === 404);
      // The release owned the leader Lease: it goes too, after the operator stopped (no 403 left it held).
      await waitFor('the leader Lease deleted', async () => (await client.kc.makeApiClient(k8sRuntime.CoordinationV1Api).readNamespacedLease({ name: 'pipetrain-operator', namespace }).then(() => false, (e: unknown) => statusCode(e) === 404)), 30_000);
      await waitFor('operator pods gone', async () => (await client.core.listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/instance=${RELEASE}` })).items.length === 0, 60_000);
      assert.match(await client.kubectl(['get', 'crd', 'pipelinejobs.pipetrain.io', '-o', 'name']), /pipelinejobs\.pipetrain\.io/);
      assert.equal((await getJob(client, namespace, JOB)).status?.phase, 'Succeeded', 'the PipelineJob stays');
      const kept = await client.core.readNamespacedPersistentVolumeClaim({ namespace, name: `${JOB}-checkpoints` });
      assert.equal(kept.status?.phase, 'Bound');
      assert.equal((await claimCheckpoint(client, namespace, JOB))?.weightsSha256, fromPods?.weightsSha256, 'checkpoints kept');
      mark('uninstalled; CRD, job and PVC kept');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  },
  { timeout: 420_000 },
);
