// Checks of spec.model.from that need no file: exactly one kind of source, not the job's own folder. Whether the source exists and fits the layers is checked when the job file is
// read by the CLI (import/check-source.ts) and again by every stage.
import { normalize, resolve } from 'node:path';
import type { CelRule } from './crd-rules.ts';
import { MODEL_SOURCE_KINDS } from './model-source-schema.ts';
import { problemAt, type LocatedProblem } from './problems.ts';
import type { PipelineJob } from './schema.ts';

export function checkModelSourceFields(job: PipelineJob): LocatedProblem[] {
  const from = job.spec.model.from;
  if (!from) return [];
  const at = ['spec', 'model', 'from'];
  const given = MODEL_SOURCE_KINDS.filter((kind) => from[kind] !== undefined);
  if (given.length !== 1) {
    const got = given.length === 0 ? 'none' : given.join(' and ');
    return [problemAt(at, `give exactly one of ${MODEL_SOURCE_KINDS.join(', ')}; got ${got}`)];
  }
  return ownCheckpointProblems(job);
}

/**
 * The job's own saves would change the source under it: its checksum, and so the run's identity.
 * Without `baseDir` paths compare as written (up to `.`, `..`, doubled and trailing slashes); the
 * CLI's check gives the job file's folder, so `ckpt` and `/abs/.../ckpt` are the same folder too.
 */
export function ownCheckpointProblems(job: PipelineJob, baseDir?: string): LocatedProblem[] {
  const from = job.spec.model.from?.checkpoint;
  const own = job.spec.checkpoint?.path;
  if (!from || own === undefined || !samePath(from.path, own, baseDir)) return [];
  return [problemAt(['spec', 'model', 'from', 'checkpoint', 'path'], `is this job's own spec.checkpoint.path (${own}); a job resumes from its own checkpoints by itself: point from at the other job's folder, or copy it elsewhere first`)];
}

function samePath(a: string, b: string, baseDir: string | undefined): boolean {
  const plain = (path: string) => (baseDir === undefined ? normalize(path) : resolve(baseDir, path)).replace(/(.)\/+$/, '$1');
  return plain(a) === plain(b);
}

const FROM = 'self.model.from';

/** The same check for the API server (crd-rules.ts adds it to the spec's rules). */
export const modelSourceRules: CelRule[] = [
  {
    rule: `!has(${FROM}) || ${MODEL_SOURCE_KINDS.map((kind) => `(has(${FROM}.${kind}) ? 1 : 0)`).join(' + ')} == 1`,
    message: `give exactly one of spec.model.from.${MODEL_SOURCE_KINDS.join(', spec.model.from.')}`,
    fieldPath: '.model.from',
  },
  {
    // Exact strings only: CEL has no path normalization (the CLI's check has).
    rule: `!has(${FROM}) || !has(${FROM}.checkpoint) || !has(self.checkpoint) || ${FROM}.checkpoint.path != self.checkpoint.path`,
    message: "spec.model.from.checkpoint.path: is this job's own spec.checkpoint.path; point from at the other job's folder",
    fieldPath: '.model.from.checkpoint.path',
  },
];
