// Deterministic child names: re-running a reconcile (or a restarted operator) finds, never duplicates.

export const secretName = (job: string): string => `${job}-token`;
export const serviceName = (job: string): string => job;
export const podName = (job: string, stage: number): string => `${job}-stage-${stage}`;
/** The pod's hostname; with subdomain = the headless Service it gets a stable DNS name. */
export const stageHostname = (job: string, stage: number): string => `${job}-stage-${stage}`;
/** The one pod that prepares spec.data.dataset before the stage pods start (data-preparation.ts). */
export const preparePodName = (job: string): string => `${job}-prepare`;
export const claimName = (job: string): string => `${job}-checkpoints`;

/** The DNS name of a stage pod through the job's headless Service. */
export function stageHost(job: string, namespace: string, stage: number, clusterDomain = 'cluster.local'): string {
  return `${stageHostname(job, stage)}.${serviceName(job)}.${namespace}.svc.${clusterDomain}`;
}

/** `namespace/name`, the work-queue key of a job. */
export const jobKey = (namespace: string, name: string): string => `${namespace}/${name}`;

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
