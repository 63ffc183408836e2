// Helm-style `--set PATH=VALUE` overrides: `spec.pipeline.stages=2`, `spec.model.layers[1].units=64`.
// Values are read as YAML scalars (numbers, booleans, strings); `null` removes the field.
// A dot inside a key is escaped as `\.`: `spec.nodeSelector.kubernetes\.io/arch=amd64`.
import { parse } from 'yaml';
import { formatPath, type Problem } from './problems.ts';

/** Thrown by applyOverrides with one problem per bad override. */
export class OverrideError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    super(problems.map((p) => `${p.path}: ${p.message}`).join('; '));
    this.name = 'OverrideError';
    this.problems = problems;
  }
}

/** Returns a copy of `obj` with every override applied, or throws OverrideError listing the bad ones. */
export function applyOverrides(obj: unknown, overrides: string[]): unknown {
  let result: unknown = structuredClone(obj ?? {});
  const problems: Problem[] = [];
  for (const override of overrides) {
    try {
      result = applyOne(result, override);
    } catch (error) {
      problems.push({ path: '', message: `--set ${override}: ${(error as Error).message}` });
    }
  }
  if (problems.length > 0) throw new OverrideError(problems);
  return result;
}

function applyOne(root: unknown, override: string): unknown {
  const equals = override.indexOf('=');
  if (equals < 1) throw new Error('expected PATH=VALUE, e.g. spec.pipeline.stages=2');
  const segments = parsePath(override.slice(0, equals));
  const value = parseScalar(override.slice(equals + 1));
  setAt(root, segments, value);
  return root;
}

/** `a.b[1].c` → ['a', 'b', 1, 'c']. */
export function parsePath(text: string): (string | number)[] {
  const segments: (string | number)[] = [];
  const pattern = /((?:[^.[\]\\]|\\.)+)|\[(\d+)\]|(\.)/gy;
  let expectKey = true;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    const [, key, index, dot] = match;
    if (key !== undefined && expectKey) segments.push(key.replace(/\\(.)/g, '$1'));
    else if (index !== undefined && !expectKey) segments.push(Number(index));
    else if (dot !== undefined && !expectKey) {
      expectKey = true;
      continue;
    } else break;
    expectKey = false;
    if (pattern.lastIndex === text.length) return segments;
  }
  throw new Error(`cannot read path '${text}'; expected keys separated by '.' and list indexes like [1]`);
}

function parseScalar(text: string): unknown {
  if (text === '') return '';
  try {
    const value: unknown = parse(text);
    return value !== null && typeof value === 'object' ? text : value;
  } catch {
    return text;
  }
}

function setAt(root: unknown, segments: (string | number)[], value: unknown): void {
  let node = root;
  for (const [index, segment] of segments.entries()) {
    const where = formatPath(segments.slice(0, index)) || 'the document';
    if (node === null || typeof node !== 'object') throw new Error(`cannot set '${segment}' inside ${where}: it is not an object or list`);
    if (typeof segment === 'number' && !Array.isArray(node)) throw new Error(`${where} is not a list`);
    if (typeof segment === 'string' && Array.isArray(node)) throw new Error(`${where} is a list; use an index like [0]`);
    const container = node as Record<string | number, unknown>;
    if (Array.isArray(node) && typeof segment === 'number' && segment > node.length) {
      throw new Error(`index ${segment} is out of range: the list has ${node.length} item(s)`);
    }
    if (index === segments.length - 1) {
      if (value === null && !Array.isArray(node)) delete container[segment];
      else container[segment] = value;
      return;
    }
    container[segment] ??= typeof segments[index + 1] === 'number' ? [] : {};
    node = container[segment];
  }
}
