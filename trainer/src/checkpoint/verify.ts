// Verification of a step folder. A step is good when its commit record (if asked), every stage
// manifest it names and every layer file those name are present and match their recorded sizes and
// SHA-256, and the manifests agree with each other. Every problem names the file it is about.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import path from 'node:path';
import { sha256Bytes, sha256File } from './hash.ts';
import { COMMIT_FILE, layerFileName, manifestFileName, stageLayers, stepDir } from './layout.ts';
import { CommitRecordSchema, readJsonFile, StageManifestSchema, type CommitRecord, type ReadJson, type StageManifest } from './manifest.ts';

/** 'full' hashes every layer file; 'sizes' only checks they exist with the recorded size. */
export type VerifyMode = 'full' | 'sizes';

export interface StepParts {
  manifests: StageManifest[];
  /** Each manifest's file entry (name, bytes, sha256), in stage order. */
  files: Array<{ file: string; bytes: number; sha256: string }>;
}

/** Reads the `stages` manifests of a step and checks they describe one consistent checkpoint. */
export async function readParts(dir: string, step: number, stages: number): Promise<{ parts?: StepParts; problems: string[] }> {
  const folder = stepDir(dir, step);
  const problems: string[] = [];
  const read: Array<ReadJson<StageManifest>> = [];
  for (let stage = 0; stage < stages; stage++) {
    try {
      read.push(await readJsonFile(folder, manifestFileName(stage, stages), StageManifestSchema));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) return { problems };
  const first = read[0]!.value;
  read.forEach(({ value: m }, stage) => {
    const where = path.join(folder, manifestFileName(stage, stages));
    if (m.step !== step || m.stage !== stage || m.stages !== stages) problems.push(`${where}: says step ${m.step}, stage ${m.stage} of ${m.stages}`);
    if (m.partition.length !== stages) problems.push(`${where}: partition [${m.partition.join(', ')}] does not have ${stages} stages`);
    for (const key of ['partition', 'jobName', 'backend', 'seed', 'specHash', 'optimizer', 'data', 'source'] as const) {
      if (!isDeepStrictEqual(m[key], first[key])) problems.push(`${where}: ${key} differs from stage 1's`);
    }
    const expected = stageLayers(m.partition, stage);
    const names = m.layers.map((l) => `${l.layerIndex}:${l.file}`);
    if (!isDeepStrictEqual(names, expected.map((i) => `${i}:${layerFileName(i)}`))) problems.push(`${where}: layers do not match the partition`);
  });
  if (problems.length > 0) return { problems };
  return {
    parts: { manifests: read.map((r) => r.value), files: read.map((r, stage) => ({ file: manifestFileName(stage, stages), bytes: r.bytes, sha256: r.sha256 })) },
    problems,
  };
}

/**
 * Checks every layer file of the manifests. The files of `wanted` layers are read whole, hashed
 * from the same bytes and returned, so what a caller decodes is exactly what was verified.
 */
export async function checkLayerFiles(folder: string, manifests: StageManifest[], mode: VerifyMode, wanted: ReadonlySet<number> = new Set()): Promise<{ problems: string[]; contents: Map<number, Buffer> }> {
  const problems: string[] = [];
  const contents = new Map<number, Buffer>();
  for (const entry of manifests.flatMap((m) => m.layers)) {
    const file = path.join(folder, entry.file);
    try {
      if (wanted.has(entry.layerIndex)) {
        const bytes = await readFile(file);
        const sha256 = await sha256Bytes(bytes);
        if (bytes.length !== entry.bytes || sha256 !== entry.sha256) problems.push(mismatch(file, entry, bytes.length));
        else contents.set(entry.layerIndex, bytes);
      } else if (mode === 'full') {
        const { sha256, bytes } = await sha256File(file);
        if (bytes !== entry.bytes || sha256 !== entry.sha256) problems.push(mismatch(file, entry, bytes));
      } else {
        const { size } = await stat(file);
        if (size !== entry.bytes) problems.push(mismatch(file, entry, size));
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problems.push(code === 'ENOENT' ? `${file}: missing` : `${file}: unreadable (${code ?? String(error)})`);
    }
  }
  return { problems, contents };
}

export interface CommittedStep {
  record?: CommitRecord;
  /** SHA-256 of the commit record file as read (a checkpoint source's checksum). */
  recordSha256?: string;
  manifests: StageManifest[];
  problems: string[];
  /** Contents of the wanted layer files (only when there are no problems). */
  contents: Map<number, Buffer>;
}

/** Verifies a committed step: its commit record, the manifests it names (by checksum), then the layer files. */
export async function verifyCommitted(dir: string, step: number, mode: VerifyMode, wanted?: ReadonlySet<number>): Promise<CommittedStep> {
  const folder = stepDir(dir, step);
  const none = { manifests: [], contents: new Map<number, Buffer>() };
  let record: CommitRecord;
  let recordSha256: string;
  try {
    ({ value: record, sha256: recordSha256 } = await readJsonFile(folder, COMMIT_FILE, CommitRecordSchema));
  } catch (error) {
    return { ...none, problems: [(error as Error).message] };
  }
  const where = path.join(folder, COMMIT_FILE);
  if (record.step !== step) return { ...none, record, recordSha256, problems: [`${where}: says step ${record.step}`] };
  const { parts, problems } = await readParts(dir, step, record.stages);
  if (!parts) return { ...none, record, recordSha256, problems };
  parts.files.forEach((actual, stage) => {
    const recorded = record.manifests[stage];
    if (recorded?.file !== actual.file || recorded.sha256 !== actual.sha256) problems.push(`${path.join(folder, actual.file)}: checksum differs from ${COMMIT_FILE}`);
  });
  if (!isDeepStrictEqual(record.partition, parts.manifests[0]!.partition)) problems.push(`${where}: partition differs from the manifests'`);
  if (problems.length > 0) return { ...none, record, recordSha256, problems };
  const layers = await checkLayerFiles(folder, parts.manifests, mode, wanted);
  return { record, recordSha256, manifests: parts.manifests, problems: layers.problems, contents: layers.problems.length > 0 ? new Map() : layers.contents };
}

function mismatch(file: string, entry: { bytes: number; sha256: string }, bytes: number): string {
  return bytes !== entry.bytes ? `${file}: ${bytes} bytes, manifest says ${entry.bytes}` : `${file}: SHA-256 does not match the manifest`;
}

/** SHA-256 of a small in-memory JSON text, as recorded for manifests. */
export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
