// What a target's image is made from, as one hash: the Dockerfile, the .dockerignore, the stand-in
// base, and every build-context file the target's stages COPY (path, mode and content). The build
// skips a target whose hash did not change.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { copiesOf, stageClosure, type Stage } from './dockerfile.ts';
import { isIgnored, parseDockerignore } from './dockerignore.ts';

/** Build-context files under `source` (a file or folder), skipping what .dockerignore leaves out. */
function contextFiles(root: string, source: string, ignored: (path: string) => boolean): string[] {
  const clean = source.replace(/^\.\//, '').replace(/\/+$/, '');
  if (ignored(clean)) return [];
  if (!statSync(join(root, clean)).isDirectory()) return [clean];
  return readdirSync(join(root, clean))
    .sort()
    .flatMap((entry) => contextFiles(root, `${clean}/${entry}`, ignored));
}

/** Every build-context file the target copies, sorted. */
export function copiedFiles(root: string, stages: readonly Stage[], target: string): string[] {
  const rules = parseDockerignore(readFileSync(join(root, '.dockerignore'), 'utf8'));
  const ignored = (path: string): boolean => isIgnored(rules, path);
  const files = stageClosure(stages, target).flatMap((stage) =>
    copiesOf(stage)
      .filter((copy) => !copy.fromStage)
      .flatMap((copy) => copy.sources.flatMap((source) => contextFiles(root, source, ignored))),
  );
  return [...new Set(files)].sort();
}

export function inputsHash(root: string, stages: readonly Stage[], target: string, baseKey: string): string {
  const hash = createHash('sha256');
  const add = (label: string, data: string | Buffer): void => {
    hash.update(`${label}\0${data.length}\0`);
    hash.update(data);
  };
  add('target', target);
  add('base', baseKey);
  add('Dockerfile', readFileSync(join(root, 'Dockerfile')));
  add('.dockerignore', readFileSync(join(root, '.dockerignore')));
  for (const file of copiedFiles(root, stages, target)) {
    add(`file ${file} ${(statSync(join(root, file)).mode & 0o777).toString(8)}`, readFileSync(join(root, file)));
  }
  return hash.digest('hex');
}
