// The commit protocol: a step counts only once COMMITTED.json exists in its folder, and that file
// is written only after every stage's manifest is present and every layer file verifies. Any
// process may try (each stage after its own save, or the runner); the record's content depends only
// on the manifests (committedAt is the newest manifest's writtenAt), so concurrent writers rename
// identical files over each other and the last rename wins harmlessly.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic.ts';
import { COMMIT_FILE, stepDir } from './layout.ts';
import { jsonBytes, type CommitRecord } from './manifest.ts';
import { checkLayerFiles, readParts, type VerifyMode } from './verify.ts';

/**
 * Writes the step's commit record if every stage's manifest for that step is present and verifies;
 * safe to call from several processes at once. Returns true when the step is (now) committed.
 * Never throws for a missing or bad part (returns false); rejects only when the record cannot be written.
 */
export async function tryCommit(dir: string, step: number, stages: number, options: { verify?: VerifyMode } = {}): Promise<boolean> {
  const folder = stepDir(dir, step);
  const { parts } = await readParts(dir, step, stages);
  if (!parts) return false;
  const layers = await checkLayerFiles(folder, parts.manifests, options.verify ?? 'full');
  if (layers.problems.length > 0) return false;
  const first = parts.manifests[0]!;
  const record: CommitRecord = {
    format: 'pipetrain-commit',
    version: 1,
    step,
    stages,
    partition: first.partition,
    manifests: parts.files,
    bytes: parts.files.reduce((sum, f) => sum + f.bytes, 0) + parts.manifests.flatMap((m) => m.layers).reduce((sum, l) => sum + l.bytes, 0),
    backend: first.backend,
    specHash: first.specHash,
    committedAt: parts.manifests.map((m) => m.writtenAt).sort().at(-1)!,
  };
  const bytes = jsonBytes(record);
  const existing = await readFile(path.join(folder, COMMIT_FILE)).catch(() => undefined);
  if (existing?.equals(bytes)) return true;
  await writeFileAtomic(folder, COMMIT_FILE, [bytes]);
  return true;
}
