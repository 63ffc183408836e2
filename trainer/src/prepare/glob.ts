// Globs for --input: `*` and `?` within one path segment, `**` for any number of segments. A small
// matcher of our own rather than fs.glob, which is experimental on Node 22 and returns matches in no
// particular order: preparation must read its files in one fixed (sorted) order to be deterministic.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export function isGlob(path: string): boolean {
  return /[*?]/.test(path);
}

/** The regular expression of one glob segment (no `/` in it). Names starting with "." need a pattern starting with ".". */
function segmentPattern(segment: string): string {
  const body = segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return segment.startsWith('.') ? body : `(?!\\.)${body}`;
}

/** Matches a path relative to the glob's fixed prefix, with `/` separators. */
export function globMatcher(relativePattern: string): RegExp {
  const parts = relativePattern.split('/').filter((part) => part !== '');
  let source = '';
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    if (part === '**') source += last ? '(?:(?!\\.)[^/]*(?:/(?!\\.)[^/]*)*)?' : '(?:(?!\\.)[^/]*/)*';
    else source += segmentPattern(part) + (last ? '' : '/');
  }
  return new RegExp(`^${source}$`);
}

/** Splits a glob into the folder before its first wildcard segment and the rest. */
export function splitGlob(pattern: string): { base: string; rest: string } {
  const parts = pattern.split(/[\\/]/);
  const fixed: string[] = [];
  while (parts.length > 1 && !isGlob(parts[0]!)) fixed.push(parts.shift()!);
  const base = fixed.length === 0 ? '.' : fixed.join('/') || '/';
  return { base, rest: parts.join('/') };
}

/** Every file matching the glob, sorted by path (code unit order, so the same on every machine). */
export async function expandGlob(pattern: string): Promise<string[]> {
  const { base, rest } = splitGlob(pattern);
  const matcher = globMatcher(rest);
  const deep = rest.includes('**');
  const depth = rest.split('/').length;
  const found: string[] = [];
  const walk = async (dir: string, relative: string, level: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const rel = relative ? `${relative}/${entry.name}` : entry.name;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (deep || level + 1 < depth) await walk(path, rel, level + 1);
      } else if (entry.isFile() && matcher.test(rel)) {
        found.push(path);
      }
    }
  };
  await walk(base, '', 0);
  return found.sort(compareCodeUnits);
}

export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
