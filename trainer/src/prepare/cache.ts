// Re-running prepare with the same inputs and settings is a no-op: an output folder whose meta.json
// records the same settings and the same SHA-256 of every input (in order) is kept as it is, once
// its shards are found with the sizes meta.json gives. Inputs are compared by content, not by name
// or time, so a copy of the corpus elsewhere is the same corpus; hashing reads at several hundred
// MB/s, far faster than preparing.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readTokenMeta, type TokenMeta } from '../data/token-shards.ts';
import type { InputFile } from './inputs.ts';
import type { PrepareReport } from './report.ts';
import type { PrepareSettings } from './settings.ts';

export interface InputRecord {
  name: string;
  bytes: number;
  sha256: string;
}

/** What the cache compares besides the inputs: every setting but the input paths. */
export function cacheSettings(settings: PrepareSettings): Omit<PrepareSettings, 'input'> {
  const { input: _input, ...rest } = settings;
  return rest;
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The earlier output's meta and report when it was prepared from the same inputs and settings. */
export async function cachedPreparation(out: string, files: readonly InputFile[], settings: PrepareSettings, reportFile: string): Promise<{ meta: TokenMeta; report: PrepareReport } | undefined> {
  const meta = await readTokenMeta(out).catch(() => undefined);
  const source = meta?.source as { inputs?: InputRecord[]; settings?: PrepareSettings } | undefined;
  if (!meta || !source?.inputs || !source.settings) return undefined;
  if (JSON.stringify(cacheSettings(source.settings)) !== JSON.stringify(cacheSettings(settings))) return undefined;
  if (source.inputs.length !== files.length || source.inputs.some((input, i) => input.bytes !== files[i]!.bytes)) return undefined;
  if (!(await shardsPresent(out, meta))) return undefined;
  const report = await readFile(join(out, reportFile), 'utf8').then((text) => JSON.parse(text) as PrepareReport, () => undefined);
  if (!report) return undefined;
  for (const [i, file] of files.entries()) if ((await sha256OfFile(file.path)) !== source.inputs[i]!.sha256) return undefined;
  return { meta, report };
}

async function shardsPresent(out: string, meta: TokenMeta): Promise<boolean> {
  const width = meta.dtype === 'uint16' ? 2 : 4;
  for (const shard of [...meta.splits.train.shards, ...meta.splits.val.shards]) {
    const size = await stat(join(out, shard.file)).then((s) => s.size, () => -1);
    if (size !== shard.tokens * width) return false;
  }
  return true;
}
