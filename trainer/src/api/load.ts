// Reads a PipelineJob from YAML: parse, apply --set overrides, validate against the schema (filling
// defaults), then run the semantic checks. Every problem is reported at once, with its YAML position.
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { applyOverrides, OverrideError } from './overrides.ts';
import { formatPath, type LocatedProblem, type Problem } from './problems.ts';
import { PipelineJobSchema, type PipelineJob } from './schema.ts';
import { checkSemantics } from './semantic.ts';
import { positionOf } from './yaml-positions.ts';
import { issuesToProblems } from './zod-issues.ts';

export type { Problem } from './problems.ts';
export { formatProblems } from './problems.ts';
export { applyOverrides, OverrideError } from './overrides.ts';

export type LoadResult = { ok: true; job: PipelineJob } | { ok: false; problems: Problem[] };

/** Validates YAML text; `source` names it (a file path, or e.g. "<stdin>"); callers print it with formatProblems. */
export function parsePipelineJobYaml(text: string, source: string, overrides: string[] = []): LoadResult {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  if (doc.errors.length > 0) return { ok: false, problems: yamlProblems(doc) };
  let input: unknown = doc.toJS();
  if (input === null || input === undefined) {
    if (overrides.length === 0) return { ok: false, problems: [{ path: '', message: `${source} is empty; expected a PipelineJob` }] };
    input = {};
  }
  try {
    input = applyOverrides(input, overrides);
  } catch (error) {
    if (error instanceof OverrideError) return { ok: false, problems: error.problems };
    throw error;
  }
  const overridden = overrides.map((o) => o.slice(0, Math.max(0, o.indexOf('='))));
  const locate = (problems: LocatedProblem[]) => problems.map((p) => withPosition(p, doc, counter, overridden));
  const parsed = PipelineJobSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) return { ok: false, problems: locate(issuesToProblems(parsed.error.issues, PipelineJobSchema, input)) };
  const semantic = checkSemantics(parsed.data);
  return semantic.length > 0 ? { ok: false, problems: locate(semantic) } : { ok: true, job: parsed.data };
}

/** Reads and validates a job file; a missing or unreadable file is reported as a problem. */
export async function loadPipelineJobFile(path: string, overrides: string[] = []): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'file not found' : `cannot read the file: ${(error as Error).message}`;
    return { ok: false, problems: [{ path: '', message }] };
  }
  return parsePipelineJobYaml(text, path, overrides);
}

function yamlProblems(doc: Document): Problem[] {
  return doc.errors.map((error) => {
    const position = error.linePos?.[0];
    const problem: Problem = { path: '', message: `invalid YAML: ${firstLine(error.message)}` };
    return position === undefined ? problem : { ...problem, line: position.line, column: position.col };
  });
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

// Fields set with --set have no place in the file, so they get no position.
function withPosition(problem: LocatedProblem, doc: Document, counter: LineCounter, overridden: string[]): Problem {
  const { segments, key, ...plain } = problem;
  const fromOverride = overridden.some((path) => path !== '' && (plain.path === path || plain.path.startsWith(`${path}.`) || plain.path.startsWith(`${path}[`)));
  if (fromOverride) return { ...plain, message: `${plain.message} (set with --set)` };
  const position = positionOf(doc, counter, segments, key === true);
  return position === undefined ? plain : { ...plain, line: position.line, column: position.column };
}

export { formatPath };
