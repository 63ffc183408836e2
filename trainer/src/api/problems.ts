// A validation problem: which field, what is wrong, where in the file. Shared by the YAML parser,
// the schema, --set overrides and the semantic checks so `pipetrain validate` prints them uniformly.

export interface Problem {
  /** Field path, e.g. 'spec.pipeline.microBatches' or 'spec.model.layers[1].units'; '' for the whole file. */
  path: string;
  message: string;
  /** 1-based position in the job file, when known. */
  line?: number;
  column?: number;
}

/** A problem that still knows its raw path, so the loader can find the YAML node. */
export interface LocatedProblem extends Problem {
  segments: PropertyKey[];
  /** Point at the field name rather than its value (unknown fields). */
  key?: boolean;
}

/** A problem at a raw path. */
export function problemAt(segments: PropertyKey[], message: string): LocatedProblem {
  return { segments, path: formatPath(segments), message };
}

/** ['spec', 'model', 'layers', 1, 'units'] → 'spec.model.layers[1].units'. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text;
}

/** One line per problem: `file:line:col: path: message` (position and path omitted when unknown). */
export function formatProblems(problems: readonly Problem[], source: string): string {
  return problems.map((problem) => formatProblem(problem, source)).join('\n');
}

function formatProblem(problem: Problem, source: string): string {
  const where = problem.line === undefined ? source : `${source}:${problem.line}:${problem.column ?? 1}`;
  const what = problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`;
  return `${where}: ${what}`;
}

/** Short, readable rendering of a value given by the user, for "got ..." in messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  return String(value);
}

/** The closest candidate within a small edit distance, for "did you mean ...?" hints. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

// Levenshtein distance with one rolling row; names are short so this is cheap.
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
