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

/** Aliases a job file may expand (yaml's own default): a real job needs few, an alias bomb many. */
const MAX_ALIAS_COUNT = 100;

export type LoadResult = { ok: true; job: PipelineJob } | { ok: false; problems: Problem[] };

/** Validates YAML text; `source` names it (a file path, or e.g. "<stdin>"); callers print it with formatProblems. */
export function parsePipelineJobYaml(text: string, source: string, overrides: string[] = []): LoadResult {
  const read = readJobInput(text, source, overrides);
  return 'problems' in read ? { ok: false, problems: read.problems } : validateJobInput(read);
}

/**
 * Steps of loading that need more than the job file (spec.model.from's files), given by the caller
 * so that this folder stays free of model formats: `resolveInput` may fill in the raw input before
 * the schema sees it (`layers: fromModel`); `checkJob` checks a valid job against its source.
 */
export interface LoadHooks {
  resolveInput?(input: unknown): Promise<{ input: unknown } | { problems: LocatedProblem[] }>;
  checkJob?(job: PipelineJob): Promise<LocatedProblem[]>;
}

/** Reads and validates a job file; a missing or unreadable file is reported as a problem. */
export async function loadPipelineJobFile(path: string, overrides: string[] = [], hooks: LoadHooks = {}): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? 'file not found' : `cannot read the file: ${(error as Error).message}`;
    return { ok: false, problems: [{ path: '', message }] };
  }
  const read = readJobInput(text, path, overrides);
  if ('problems' in read) return { ok: false, problems: read.problems };
  const resolved = hooks.resolveInput ? await hooks.resolveInput(read.input) : { input: read.input };
  if ('problems' in resolved) return { ok: false, problems: read.locate(resolved.problems) };
  const result = validateJobInput({ ...read, input: resolved.input });
  if (!result.ok || !hooks.checkJob) return result;
  const problems = await hooks.checkJob(result.job);
  return problems.length > 0 ? { ok: false, problems: read.locate(problems) } : result;
}

interface JobInput {
  input: unknown;
  /** Adds YAML positions to problems. */
  locate(problems: LocatedProblem[]): Problem[];
}

/** YAML text to a plain object with the overrides applied; problems when it is not YAML. */
function readJobInput(text: string, source: string, overrides: string[]): JobInput | { problems: Problem[] } {
  const counter = new LineCounter();
  // logLevel 'error': yaml's warnings (e.g. a mapping used as a key) would go to the process's
  // warning stream, outside the problem list; the schema reports such a key as an unknown field.
  const doc = parseDocument(text, { lineCounter: counter, logLevel: 'error' });
  if (doc.errors.length > 0) return { problems: yamlProblems(doc) };
  let input: unknown;
  try {
    input = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // yaml refuses alias bombs (a few lines expanding to gigabytes) by throwing; that is the file's
    // fault, not ours (found by test/fuzz/job-fuzz.test.ts: validate crashed with a stack trace).
    return { problems: [{ path: '', message: `invalid YAML: ${(error as Error).message}; write the values out instead of using so many aliases` }] };
  }
  if (input === null || input === undefined) {
    if (overrides.length === 0) return { problems: [{ path: '', message: `${source} is empty; expected a PipelineJob` }] };
    input = {};
  }
  try {
    input = applyOverrides(input, overrides);
  } catch (error) {
    if (error instanceof OverrideError) return { problems: error.problems };
    throw error;
  }
  const overridden = overrides.map((o) => o.slice(0, Math.max(0, o.indexOf('='))));
  return { input, locate: (problems) => problems.map((p) => withPosition(p, doc, counter, overridden)) };
}

/** The schema (with defaults), then the semantic checks. */
function validateJobInput({ input, locate }: JobInput): LoadResult {
  const parsed = PipelineJobSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) return { ok: false, problems: locate(issuesToProblems(parsed.error.issues, PipelineJobSchema, input)) };
  const semantic = checkSemantics(parsed.data);
  return semantic.length > 0 ? { ok: false, problems: locate(semantic) } : { ok: true, job: parsed.data };
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
