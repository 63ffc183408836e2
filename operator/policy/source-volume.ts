// Where spec.model.from's files are on Kubernetes. A stage pod has no job file to resolve paths
// against (it resolves them against `/`), and its root file system is read-only and empty of data:
// the source must be on a volume the pod mounts. Two volumes qualify: the job's own claim (mounted
// at spec.checkpoint.path) and spec.model.from.persistentVolumeClaim (mounted read-only at its
// mountPath). Checked before any pod is created, so a path on no volume is InvalidSpec with the
// field named, not a stage that fails to find the file.
import { posix } from 'node:path';
import type { PipelineJob } from '../../trainer/src/api/schema.ts';

/** The pod's scratch mount (children/pods.ts): the source claim must not hide it. */
const SCRATCH_MOUNT = '/tmp';

/** The job's from path and its field name, if the job has a source with a path. */
function sourcePath(spec: PipelineJob['spec']): { field: string; path: string } | undefined {
  const from = spec.model.from;
  if (from?.checkpoint) return { field: 'spec.model.from.checkpoint.path', path: from.checkpoint.path };
  if (from?.tfjsLayers !== undefined) return { field: 'spec.model.from.tfjsLayers', path: from.tfjsLayers };
  if (from?.huggingface !== undefined) return { field: 'spec.model.from.huggingface', path: from.huggingface };
  return undefined;
}

/** `/a/b/` → `/a/b`; `.` and `..` resolved, so `/ckpt/../etc` is not under `/ckpt`. */
const plain = (path: string): string => posix.normalize(path).replace(/(.)\/+$/, '$1');

/** True when `path` is `dir` or inside it. */
export function isUnder(path: string, dir: string): boolean {
  const [p, d] = [plain(path), plain(dir)];
  return p === d || p.startsWith(d === '/' ? '/' : `${d}/`);
}

/** Where the job's own claim is mounted, when it has one (an emptyDir holds no source). */
function jobClaimMount(spec: PipelineJob['spec']): string | undefined {
  const checkpoint = spec.checkpoint;
  return checkpoint?.persistentVolumeClaim || checkpoint?.volumeClaimTemplate ? checkpoint.path : undefined;
}

/** Why the source claim cannot be mounted where asked, if it cannot. */
function mountPathProblem(spec: PipelineJob['spec']): string | undefined {
  const claim = spec.model.from?.persistentVolumeClaim;
  if (!claim) return undefined;
  const field = 'spec.model.from.persistentVolumeClaim.mountPath';
  const at = JSON.stringify(claim.mountPath);
  if (!posix.isAbsolute(claim.mountPath) || plain(claim.mountPath) === '/') return `${field} must be an absolute folder other than /, got ${at}, e.g. /source`;
  // One mount inside another would hide files or write into the read-only claim.
  const others = [...(spec.checkpoint ? [{ path: spec.checkpoint.path, what: 'spec.checkpoint.path' }] : []), { path: SCRATCH_MOUNT, what: 'the pod\'s scratch folder' }];
  for (const other of others) {
    if (isUnder(claim.mountPath, other.path) || isUnder(other.path, claim.mountPath)) {
      return `${field} (${at}) overlaps ${other.what} (${JSON.stringify(other.path)}): mount the source claim on a folder of its own, e.g. /source`;
    }
  }
  return undefined;
}

/** Why spec.model.from's path would not be on a volume of the stage pods, if it would not. */
export function sourceVolumeProblem(spec: PipelineJob['spec']): string | undefined {
  const source = sourcePath(spec);
  if (!source) return undefined;
  const mountProblem = mountPathProblem(spec);
  if (mountProblem) return mountProblem;
  const claim = spec.model.from?.persistentVolumeClaim;
  const own = jobClaimMount(spec);
  const volumes = [
    ...(own !== undefined ? [{ mount: own, what: `spec.checkpoint.path (${JSON.stringify(own)}, the job's claim)` }] : []),
    ...(claim ? [{ mount: claim.mountPath, what: `spec.model.from.persistentVolumeClaim.mountPath (${JSON.stringify(claim.mountPath)}, claim ${claim.claimName}, read-only)` }] : []),
  ];
  const at = JSON.stringify(source.path);
  if (posix.isAbsolute(source.path) && volumes.some((v) => isUnder(source.path, v.mount))) return undefined;
  const where = volumes.length > 0
    ? `give an absolute path under ${volumes.map((v) => v.what).join(' or ')}`
    : 'the job mounts no claim: give spec.checkpoint a persistentVolumeClaim or volumeClaimTemplate and a path under spec.checkpoint.path';
  const relative = posix.isAbsolute(source.path) ? '' : ' (stage pods have no job file to resolve a relative path against)';
  const orClaim = claim ? '' : ', or name the claim holding the source in spec.model.from.persistentVolumeClaim {claimName, mountPath}';
  return `${source.field} (${at}) is on no volume the stage pods mount${relative}: ${where}${orClaim}`;
}
