// The API calls of the controller, on @kubernetes/client-node 2.0 (one object parameter per call):
// child creation and deletion (AlreadyExists / NotFound are success: level-triggered), the one
// status write per reconcile (PUT /status with resourceVersion: a stale cache gives a Conflict and
// a retry instead of overwriting newer status), and events.
import * as k8s from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, PLURAL } from '../trainer/src/api/schema.ts';
import { FIELD_MANAGER, MANAGED_BY } from './constants.ts';
import type { ChildActions, JobEvent } from './policy/draft.ts';
import type { PipelineJobObject } from './policy/job.ts';
import { isAlreadyExists, isNotFound } from './machinery/k8s-errors.ts';
import { keepAliveAuthentication, makeKeepAliveClient } from './machinery/keep-alive.ts';
import type { JobStatus } from './policy/status-types.ts';

const ignore = (check: (e: unknown) => boolean) => (error: unknown) => {
  if (!check(error)) throw error;
};

export interface Apis {
  core: k8s.CoreV1Api;
  custom: k8s.CustomObjectsApi;
  coordination: k8s.CoordinationV1Api;
}

export function makeApis(kc: k8s.KubeConfig): Apis {
  const auth = keepAliveAuthentication(kc);
  const make = <T>(api: new (config: k8s.Configuration) => T): T => makeKeepAliveClient(kc, auth, api);
  return { core: make(k8s.CoreV1Api), custom: make(k8s.CustomObjectsApi), coordination: make(k8s.CoordinationV1Api) };
}

export function childActions({ core, custom }: Apis): ChildActions {
  const fieldManager = FIELD_MANAGER;
  return {
    createPod: (body) => core.createNamespacedPod({ namespace: body.metadata?.namespace ?? '', body, fieldManager }).then(() => undefined, ignore(isAlreadyExists)),
    deletePod: (namespace, name, force) =>
      core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: force ? 0 : undefined }).then(() => undefined, ignore(isNotFound)),
    createSecret: (body) => core.createNamespacedSecret({ namespace: body.metadata?.namespace ?? '', body, fieldManager }).then(() => undefined, ignore(isAlreadyExists)),
    createService: (body) => core.createNamespacedService({ namespace: body.metadata?.namespace ?? '', body, fieldManager }).then(() => undefined, ignore(isAlreadyExists)),
    createClaim: (body) =>
      core.createNamespacedPersistentVolumeClaim({ namespace: body.metadata?.namespace ?? '', body, fieldManager }).then(() => undefined, ignore(isAlreadyExists)),
    deleteJob: (namespace, name) =>
      custom.deleteNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, plural: PLURAL, namespace, name, propagationPolicy: 'Background' }).then(() => undefined, ignore(isNotFound)),
  };
}

export async function writeStatus(custom: k8s.CustomObjectsApi, object: PipelineJobObject, status: JobStatus): Promise<PipelineJobObject> {
  const { namespace, name } = object.metadata;
  return (await custom.replaceNamespacedCustomObjectStatus({
    group: API_GROUP,
    version: API_VERSION,
    plural: PLURAL,
    namespace,
    name,
    body: { ...object, status },
    fieldManager: FIELD_MANAGER,
  })) as PipelineJobObject;
}

export function eventRecorder(core: k8s.CoreV1Api, instance: string) {
  return async (object: PipelineJobObject, event: JobEvent): Promise<void> => {
    const now = new Date();
    const { namespace, name, uid, resourceVersion } = object.metadata;
    await core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${name}.`, namespace },
        involvedObject: { apiVersion: object.apiVersion, kind: object.kind, name, namespace, uid, resourceVersion },
        type: event.type,
        reason: event.reason,
        message: event.message.slice(0, 1024),
        // core/v1 Events: no eventTime (MicroTime wants microseconds, and then reportingController too).
        source: { component: MANAGED_BY, host: instance },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  };
}
