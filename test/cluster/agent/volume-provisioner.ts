// A PersistentVolume per pending claim, backed by a directory of the state dir and pre-bound to the
// claim (the controller-manager's PV controller then binds it), like a local-path provisioner.
import type * as k8s from '@kubernetes/client-node';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage, statusCode } from '../util.ts';
import { log } from './types.ts';

export function provisionerFor(core: k8s.CoreV1Api, stateDir: string): (pvc: k8s.V1PersistentVolumeClaim) => void {
  return (pvc) => {
    if (pvc.spec?.volumeName || pvc.status?.phase !== 'Pending' || !pvc.metadata?.uid) return;
    const name = `pvc-${pvc.metadata.uid}`;
    const path = join(stateDir, 'volumes', name);
    mkdirSync(path, { recursive: true });
    core
      .createPersistentVolume({
        body: {
          metadata: { name, labels: { 'pipetrain.dev/provisioned-by': 'node-agent' } },
          spec: {
            capacity: { storage: pvc.spec?.resources?.requests?.storage ?? '1Gi' },
            accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
            storageClassName: pvc.spec?.storageClassName ?? '',
            persistentVolumeReclaimPolicy: 'Retain',
            volumeMode: 'Filesystem',
            hostPath: { path, type: 'DirectoryOrCreate' },
            claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: pvc.metadata.namespace, name: pvc.metadata.name, uid: pvc.metadata.uid },
          },
        },
      })
      .then(() => log(`provisioned ${name} for ${pvc.metadata?.namespace}/${pvc.metadata?.name}`))
      .catch((err: unknown) => {
        if (statusCode(err) !== 409) log(`provisioning ${name} failed: ${errorMessage(err)}`);
      });
  };
}
