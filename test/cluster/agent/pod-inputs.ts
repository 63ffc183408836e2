// What a pod's container is given before it starts: its volumes as directories (emptyDir, hostPath,
// claims, secrets, config maps, downward API, projected tokens) and its environment, as a kubelet
// resolves them. Anything missing throws, and the agent retries like a kubelet.
import * as k8s from '@kubernetes/client-node';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { statusCode } from '../util.ts';
import { API_PROXY_PORT, NODE_CAPACITY, type PodRun } from './types.ts';

/**
 * fsGroup on a claim's volume, as a kubelet applies it: the group owns every file, may read and write
 * them, and new files in its folders inherit the group (setgid).
 */
function applyFsGroup(path: string, fsGroup: number | undefined): void {
  if (fsGroup === undefined) return;
  for (const [cmd, args] of [['chgrp', ['-R', String(fsGroup), path]], ['chmod', ['-R', 'g+rwX', path]], ['find', [path, '-type', 'd', '-exec', 'chmod', 'g+s', '{}', '+']]] as const) {
    const result = spawnSync(cmd, args);
    if (result.status !== 0) throw new Error(`fsGroup ${fsGroup} on ${path}: ${cmd} failed: ${result.stderr.toString().trim()}`);
  }
}

export class PodInputs {
  private readonly core: k8s.CoreV1Api;
  private readonly gateway: string;
  private readonly stateDir: string;

  constructor(core: k8s.CoreV1Api, gateway: string, stateDir: string) {
    this.core = core;
    this.gateway = gateway;
    this.stateDir = stateDir;
  }

  async prepareVolumes(run: PodRun): Promise<Map<string, string>> {
    const ns = run.pod.metadata?.namespace ?? 'default';
    const result = new Map<string, string>();
    const writeFiles = (dir: string, files: Record<string, Buffer>, mode?: number): void => {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(join(dir, path, '..'), { recursive: true });
        writeFileSync(join(dir, path), content, { mode: mode ?? 0o644 });
      }
    };
    const pick = (data: Record<string, Buffer>, items: { key: string; path: string }[] | undefined): Record<string, Buffer> => {
      if (!items) return data;
      const out: Record<string, Buffer> = {};
      for (const item of items) {
        const value = data[item.key];
        if (value === undefined) throw new Error(`key ${item.key} not found`);
        out[item.path] = value;
      }
      return out;
    };
    for (const volume of run.pod.spec?.volumes ?? []) {
      const dir = join(run.dir, 'volumes', volume.name);
      if (volume.emptyDir) {
        mkdirSync(dir, { recursive: true });
        // As a kubelet makes it: anyone may write (stage pods run as a non-root user).
        chmodSync(dir, 0o777);
        result.set(volume.name, dir);
      } else if (volume.hostPath) {
        mkdirSync(volume.hostPath.path, { recursive: true });
        result.set(volume.name, volume.hostPath.path);
      } else if (volume.persistentVolumeClaim) {
        const pvc = await this.core.readNamespacedPersistentVolumeClaim({ name: volume.persistentVolumeClaim.claimName, namespace: ns });
        if (pvc.status?.phase !== 'Bound' || !pvc.spec?.volumeName) throw new Error(`persistentvolumeclaim ${volume.persistentVolumeClaim.claimName} is not bound`);
        const pv = await this.core.readPersistentVolume({ name: pvc.spec.volumeName });
        const path = pv.spec?.hostPath?.path ?? join(this.stateDir, 'volumes', pv.metadata?.name ?? 'unknown');
        mkdirSync(path, { recursive: true });
        applyFsGroup(path, run.pod.spec?.securityContext?.fsGroup);
        result.set(volume.name, path);
      } else if (volume.secret) {
        const data = await this.secretData(ns, volume.secret.secretName ?? '', volume.secret.optional);
        writeFiles(dir, pick(data, volume.secret.items), volume.secret.defaultMode);
        result.set(volume.name, dir);
      } else if (volume.configMap) {
        const data = await this.configMapData(ns, volume.configMap.name ?? '', volume.configMap.optional);
        writeFiles(dir, pick(data, volume.configMap.items), volume.configMap.defaultMode);
        result.set(volume.name, dir);
      } else if (volume.downwardAPI) {
        const files: Record<string, Buffer> = {};
        for (const item of volume.downwardAPI.items ?? []) files[item.path] = Buffer.from(this.fieldValue(run, item.fieldRef?.fieldPath ?? ''));
        writeFiles(dir, files, volume.downwardAPI.defaultMode);
        result.set(volume.name, dir);
      } else if (volume.projected) {
        const files: Record<string, Buffer> = {};
        for (const source of volume.projected.sources ?? []) {
          if (source.serviceAccountToken) {
            files[source.serviceAccountToken.path] = Buffer.from(await this.token(run, source.serviceAccountToken));
          } else if (source.configMap) {
            Object.assign(files, pick(await this.configMapData(ns, source.configMap.name ?? '', source.configMap.optional), source.configMap.items));
          } else if (source.secret) {
            Object.assign(files, pick(await this.secretData(ns, source.secret.name ?? '', source.secret.optional), source.secret.items));
          } else if (source.downwardAPI) {
            for (const item of source.downwardAPI.items ?? []) files[item.path] = Buffer.from(this.fieldValue(run, item.fieldRef?.fieldPath ?? ''));
          }
        }
        writeFiles(dir, files, volume.projected.defaultMode);
        result.set(volume.name, dir);
      } else {
        throw new Error(`volume ${volume.name}: only emptyDir, hostPath, persistentVolumeClaim, secret, configMap, downwardAPI and projected are supported`);
      }
    }
    return result;
  }

  private async token(run: PodRun, source: k8s.V1ServiceAccountTokenProjection): Promise<string> {
    const response = await this.core.createNamespacedServiceAccountToken({
      name: run.pod.spec?.serviceAccountName ?? 'default',
      namespace: run.pod.metadata?.namespace ?? 'default',
      body: {
        spec: {
          audiences: source.audience ? [source.audience] : [],
          expirationSeconds: source.expirationSeconds ?? 3607,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: run.pod.metadata?.name, uid: run.uid },
        },
      },
    });
    return response.status?.token ?? '';
  }

  private async secretData(ns: string, name: string, optional?: boolean): Promise<Record<string, Buffer>> {
    try {
      const secret = await this.core.readNamespacedSecret({ name, namespace: ns });
      const out: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64');
      for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = Buffer.from(v);
      return out;
    } catch (err) {
      if (statusCode(err) === 404) {
        if (optional) return {};
        throw new Error(`secret "${name}" not found`, { cause: err });
      }
      throw err;
    }
  }

  private async configMapData(ns: string, name: string, optional?: boolean): Promise<Record<string, Buffer>> {
    try {
      const cm = await this.core.readNamespacedConfigMap({ name, namespace: ns });
      const out: Record<string, Buffer> = {};
      for (const [k, v] of Object.entries(cm.data ?? {})) out[k] = Buffer.from(v);
      for (const [k, v] of Object.entries(cm.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
      return out;
    } catch (err) {
      if (statusCode(err) === 404) {
        if (optional) return {};
        throw new Error(`configmap "${name}" not found`, { cause: err });
      }
      throw err;
    }
  }

  private fieldValue(run: PodRun, path: string): string {
    const meta = run.pod.metadata ?? {};
    const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
    if (label) return (label[1] === 'labels' ? meta.labels : meta.annotations)?.[label[2] ?? ''] ?? '';
    switch (path) {
      case 'metadata.name':
        return meta.name ?? '';
      case 'metadata.namespace':
        return meta.namespace ?? '';
      case 'metadata.uid':
        return meta.uid ?? '';
      case 'spec.nodeName':
        return run.node.name;
      case 'spec.serviceAccountName':
        return run.pod.spec?.serviceAccountName ?? '';
      case 'status.podIP':
      case 'status.podIPs':
        return run.ip;
      case 'status.hostIP':
      case 'status.hostIPs':
        return this.gateway;
      case 'metadata.labels':
        return Object.entries(meta.labels ?? {}).map(([k, v]) => `${k}="${v}"`).join('\n');
      case 'metadata.annotations':
        return Object.entries(meta.annotations ?? {}).map(([k, v]) => `${k}="${v}"`).join('\n');
      default:
        throw new Error(`fieldRef ${path} is not supported`);
    }
  }

  /** `base`: what the runtime starts from (the image's Env and HOME); the pod's env goes on top. */
  async resolveEnv(run: PodRun, container: k8s.V1Container, base: Record<string, string>): Promise<Record<string, string>> {
    const ns = run.pod.metadata?.namespace ?? 'default';
    const env: Record<string, string> = {
      ...base,
      HOSTNAME: run.pod.spec?.hostname ?? run.pod.metadata?.name ?? '',
      KUBERNETES_SERVICE_HOST: this.gateway,
      KUBERNETES_SERVICE_PORT: String(API_PROXY_PORT),
      KUBERNETES_SERVICE_PORT_HTTPS: String(API_PROXY_PORT),
      KUBERNETES_PORT: `tcp://${this.gateway}:${API_PROXY_PORT}`,
    };
    if (run.gpus.length > 0) {
      env.NVIDIA_VISIBLE_DEVICES = run.gpus.join(',');
      env.CUDA_VISIBLE_DEVICES = run.gpus.join(',');
    }
    for (const from of container.envFrom ?? []) {
      const prefix = from.prefix ?? '';
      const data = from.configMapRef
        ? await this.configMapData(ns, from.configMapRef.name ?? '', from.configMapRef.optional)
        : from.secretRef
          ? await this.secretData(ns, from.secretRef.name ?? '', from.secretRef.optional)
          : {};
      for (const [k, v] of Object.entries(data)) env[prefix + k] = v.toString();
    }
    for (const item of container.env ?? []) {
      const source = item.valueFrom;
      let value: string | undefined;
      if (!source) {
        value = (item.value ?? '').replace(/\$\((\w+)\)|\$\$/g, (m, v: string | undefined) => (v === undefined ? '$' : (env[v] ?? m)));
      } else if (source.fieldRef) {
        value = this.fieldValue(run, source.fieldRef.fieldPath);
      } else if (source.secretKeyRef) {
        const ref = source.secretKeyRef;
        const data = await this.secretData(ns, ref.name ?? '', ref.optional);
        value = data[ref.key]?.toString();
        if (value === undefined && !ref.optional) throw new Error(`couldn't find key ${ref.key} in Secret ${ns}/${ref.name}`);
      } else if (source.configMapKeyRef) {
        const ref = source.configMapKeyRef;
        const data = await this.configMapData(ns, ref.name ?? '', ref.optional);
        value = data[ref.key]?.toString();
        if (value === undefined && !ref.optional) throw new Error(`couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}`);
      } else if (source.resourceFieldRef) {
        const res = source.resourceFieldRef.resource;
        const [kind, name] = res.split('.');
        const quantity = (kind === 'limits' ? container.resources?.limits : container.resources?.requests)?.[name ?? ''];
        value = quantity ?? (name === 'cpu' ? NODE_CAPACITY.cpu : '0');
      }
      if (value !== undefined) env[item.name] = value;
    }
    return env;
  }

  // ---- status --------------------------------------------------------------------------------
}
