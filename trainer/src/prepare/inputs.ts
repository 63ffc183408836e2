// Which files `--input` names: files as given, folders searched recursively for text and JSON Lines
// files, globs expanded; relative paths against a base folder. The result is in a fixed order (as
// given; folders and globs sorted), each file once, because the output must not depend on the order
// a file system lists a folder in.
import { readdir, stat } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { PrepareError, describeErrno } from './errors.ts';
import { compareCodeUnits, expandGlob, isGlob } from './glob.ts';

export type InputKind = 'text' | 'jsonl';

export interface InputFile {
  /** Absolute path. */
  path: string;
  /** The path as reports show it: relative to the base folder when inside it. */
  name: string;
  kind: InputKind;
  bytes: number;
}

export const TEXT_EXTENSIONS = ['.txt', '.text', '.md', '.markdown', '.rst'];
export const JSONL_EXTENSIONS = ['.jsonl', '.ndjson'];

export function kindOf(path: string): InputKind {
  return JSONL_EXTENSIONS.includes(extname(path).toLowerCase()) ? 'jsonl' : 'text';
}

function isPreparable(path: string): boolean {
  const extension = extname(path).toLowerCase();
  return TEXT_EXTENSIONS.includes(extension) || JSONL_EXTENSIONS.includes(extension);
}

async function filesInFolder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue; // hidden files and folders (.git) are not corpus text
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesInFolder(path)));
    else if (entry.isFile() && isPreparable(path)) out.push(path);
  }
  return out.sort(compareCodeUnits);
}

/** The files of one --input entry; `label` names the option in messages ("--input" or "prepare.input[0]"). */
async function expandInput(spec: string, baseDir: string, label: string): Promise<string[]> {
  const absolute = resolve(baseDir, spec);
  if (isGlob(spec)) {
    const matches = await expandGlob(isAbsolute(spec) ? spec : join(baseDir, spec));
    if (matches.length === 0) throw new PrepareError(`${label} ${spec}: no file matches this glob`);
    return matches;
  }
  const info = await stat(absolute).catch((error: unknown) => {
    throw new PrepareError(`${label} ${spec}: ${describeErrno(error)}${spec === absolute ? '' : ` (looked for ${absolute})`}`);
  });
  if (info.isFile()) return [absolute];
  if (!info.isDirectory()) throw new PrepareError(`${label} ${spec}: not a file or folder`);
  const files = await filesInFolder(absolute);
  if (files.length === 0) throw new PrepareError(`${label} ${spec}: the folder has no ${[...TEXT_EXTENSIONS, ...JSONL_EXTENSIONS].join(', ')} files`);
  return files;
}

export async function resolveInputs(specs: readonly string[], baseDir: string, label = 'input'): Promise<InputFile[]> {
  const seen = new Set<string>();
  const files: InputFile[] = [];
  for (const spec of specs) {
    for (const path of await expandInput(spec, baseDir, label)) {
      const absolute = resolve(path);
      if (seen.has(absolute)) continue;
      seen.add(absolute);
      const { size } = await stat(absolute);
      const inside = relative(baseDir, absolute);
      const name = inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : absolute;
      files.push({ path: absolute, name, kind: kindOf(absolute), bytes: size });
    }
  }
  return files;
}
