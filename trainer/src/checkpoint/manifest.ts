// The JSON files of a step folder: each stage's part manifest (`stage-1-of-4.json`, written last by
// that stage) and the commit record (`COMMITTED.json`). Both are small; they are read whole and
// validated here, so callers get typed values or an Error saying what is wrong.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

const count = z.int().min(0);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const fileEntry = z.object({ file: z.string().min(1), bytes: count, sha256 });

export const StageManifestSchema = z.object({
  format: z.literal('pipetrain-stage-part'),
  version: z.literal(1),
  jobName: z.string(),
  step: z.int().min(1),
  stage: count,
  stages: z.int().min(1),
  partition: z.array(count),
  /** One entry per layer of the stage, in layer order. */
  layers: z.array(fileEntry.extend({ layerIndex: count })),
  optimizer: z.object({ type: z.string(), scalars: z.record(z.string(), z.number()) }),
  data: z.object({ epoch: count, offset: count }),
  backend: z.string(),
  seed: z.number(),
  specHash: z.string(),
  /** StageSnapshot.model: what the model is, for tools that rebuild it (optional). */
  model: z.unknown().optional(),
  /** StageSnapshot.source: the weight source the run started from (optional). */
  source: z.object({ kind: z.string(), checksum: sha256 }).optional(),
  writtenAt: z.iso.datetime(),
});
export type StageManifest = z.infer<typeof StageManifestSchema>;

export const CommitRecordSchema = z.object({
  format: z.literal('pipetrain-commit'),
  version: z.literal(1),
  step: z.int().min(1),
  stages: z.int().min(1),
  partition: z.array(count),
  /** The stage manifests in stage order, with the checksum each had when the step was committed. */
  manifests: z.array(fileEntry),
  /** Bytes of all layer files and manifests. */
  bytes: count,
  backend: z.string(),
  specHash: z.string(),
  /** The newest manifest's writtenAt: the same in every process that commits the step. */
  committedAt: z.iso.datetime(),
});
export type CommitRecord = z.infer<typeof CommitRecordSchema>;

export interface ReadJson<T> {
  value: T;
  bytes: number;
  sha256: string;
}

/** Reads, hashes and validates a JSON file; rejects with an Error whose message names the file. */
export async function readJsonFile<T>(folder: string, file: string, schema: z.ZodType<T>): Promise<ReadJson<T>> {
  const where = path.join(folder, file);
  let raw: Buffer;
  try {
    raw = await readFile(where);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${where}: missing` : `${where}: unreadable (${code ?? String(error)})`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new Error(`${where}: not valid JSON`, { cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${where}: unexpected content (${issue ? `${issue.path.join('.') || 'root'}: ${issue.message}` : 'invalid'})`);
  }
  return { value: parsed.data, bytes: raw.length, sha256: createHash('sha256').update(raw).digest('hex') };
}

/** JSON text of a manifest or record; one line per file, LF-terminated. */
export function jsonBytes(value: unknown): Uint8Array {
  return Buffer.from(`${JSON.stringify(value, null, 1)}\n`, 'utf8');
}
