// The one place where the versions of the test cluster's tools are pinned.
// Changing a version here changes the cache key, so `npm run cluster:tools` rebuilds only that tool.

/** Kubernetes release used for kube-apiserver, kube-controller-manager, kube-scheduler and kubectl. */
export const KUBERNETES_VERSION = 'v1.35.4';

/** etcd server, built from the `go.etcd.io/etcd/server/v3` module (declares `go 1.26.0`). */
export const ETCD_VERSION = 'v3.6.16';

/** Helm 3, built from `helm.sh/helm/v3` with upstream's version ldflags. */
export const HELM_VERSION = 'v3.21.4';

/** `v1.35.4` → `{ major: '1', minor: '35', patch: '4' }`. */
export function splitVersion(version: string): { major: string; minor: string; patch: string } {
  const match = /^v(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!match) throw new Error(`version ${JSON.stringify(version)} is not of the form vX.Y.Z`);
  return { major: match[1] ?? '', minor: match[2] ?? '', patch: match[3] ?? '' };
}
