// Writes a pod's status to the API server whenever the agent marks it dirty: one patch in flight per
// pod, the latest state always written last, a few retries with back-off (200 ms steps).
import type * as k8s from '@kubernetes/client-node';
import { sleep, statusCode } from '../util.ts';
import { podStatus } from './pod-status.ts';
import { strategicMergePatch, type PodRun } from './types.ts';

export class StatusWriter {
  private readonly core: k8s.CoreV1Api;
  private readonly gateway: string;

  constructor(core: k8s.CoreV1Api, gateway: string) {
    this.core = core;
    this.gateway = gateway;
  }

  markDirty(run: PodRun): void {
    run.dirty = true;
    if (!run.patching) void this.flush(run);
  }

  /** Resolves once everything marked so far is written (or given up). */
  async flushed(run: PodRun): Promise<void> {
    while (run.patching || run.dirty) await sleep(50);
  }

  private async flush(run: PodRun): Promise<void> {
    run.patching = true;
    try {
      while (run.dirty) {
        run.dirty = false;
        if (run.node.stopped) break; // a dead node reports nothing
        await this.patch(run);
      }
    } finally {
      run.patching = false;
    }
  }

  private async patch(run: PodRun): Promise<void> {
    const name = run.pod.metadata?.name ?? '';
    const namespace = run.pod.metadata?.namespace ?? '';
    for (let attempt = 0; ; attempt++) {
      try {
        await this.core.patchNamespacedPodStatus({ name, namespace, body: { status: podStatus(run, this.gateway) } }, strategicMergePatch);
        return;
      } catch (err) {
        if (statusCode(err) === 404 || attempt >= 5) return;
        await sleep(200 * (attempt + 1));
      }
    }
  }
}
