// What a kubelet writes about its node: the Node object with capacity and conditions, and its Lease.
import type * as k8s from '@kubernetes/client-node';
import { NODE_CAPACITY, mergePatch, microTime, nowTime, strategicMergePatch, type NodeRuntime } from './types.ts';

export interface NodeApis {
  core: k8s.CoreV1Api;
  coordination: k8s.CoordinationV1Api;
  /** The node's InternalIP: the bridge address pods reach. */
  gateway: string;
}

/** Creates the Node (labels as a kubelet sets them), posts it Ready and creates its Lease. */
export async function registerNode(apis: NodeApis, node: NodeRuntime): Promise<void> {
  const created = await apis.core.createNode({
    body: {
      metadata: {
        name: node.name,
        labels: {
          'kubernetes.io/hostname': node.name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'node.kubernetes.io/instance-type': 'pipetrain-process',
          'pipetrain.dev/gpu': 'true',
        },
      },
    },
  });
  node.uid = created.metadata?.uid;
  await postNodeStatus(apis, node);
  await apis.coordination.createNamespacedLease({
    namespace: 'kube-node-lease',
    body: {
      metadata: {
        name: node.name,
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid ?? '' }],
      },
      spec: { holderIdentity: node.name, leaseDurationSeconds: 40 },
    },
  });
  await renewLease(apis, node);
}

export async function postNodeStatus(apis: NodeApis, node: NodeRuntime): Promise<void> {
  const now = nowTime();
  const cond = (type: string, status: string, reason: string, message: string): k8s.V1NodeCondition =>
    ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: node.readySince }) as unknown as k8s.V1NodeCondition;
  await apis.core.patchNodeStatus(
    {
      name: node.name,
      body: {
        status: {
          capacity: NODE_CAPACITY,
          allocatable: NODE_CAPACITY,
          conditions: [
            cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
            cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
            cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
            cond('Ready', 'True', 'KubeletReady', 'pipetrain node agent is posting ready status'),
          ],
          addresses: [
            { type: 'InternalIP', address: apis.gateway },
            { type: 'Hostname', address: node.name },
          ],
          daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
          nodeInfo: {
            architecture: 'amd64',
            bootID: node.bootID,
            containerRuntimeVersion: 'process://pipetrain-agent',
            kernelVersion: '',
            kubeProxyVersion: '',
            kubeletVersion: 'v0.0.0-pipetrain-agent',
            machineID: node.name,
            operatingSystem: 'linux',
            osImage: 'pipetrain process node',
            systemUUID: node.uid ?? node.name,
          },
        },
      },
    },
    strategicMergePatch,
  );
}

export async function renewLease(apis: NodeApis, node: NodeRuntime): Promise<void> {
  await apis.coordination.patchNamespacedLease(
    { name: node.name, namespace: 'kube-node-lease', body: { spec: { holderIdentity: node.name, renewTime: microTime() } } },
    mergePatch,
  );
}
