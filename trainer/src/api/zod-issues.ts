// Turns zod issues into Problems whose messages say what was given and what would be valid,
// e.g. `spec.pipeline.microBatches: must be >= 1, got 0`.
import type { z } from 'zod';
import { describeValue, formatPath, suggest, type LocatedProblem } from './problems.ts';
import { knownFields } from './schema-walk.ts';
import { BATCH_NORMALIZATION_MESSAGE } from './semantic.ts';

type Issue = z.core.$ZodIssue;

export function issuesToProblems(issues: readonly Issue[], schema: z.ZodType, input: unknown): LocatedProblem[] {
  return issues.flatMap((issue) => issueToProblems(issue, schema, input));
}

function issueToProblems(issue: Issue, schema: z.ZodType, input: unknown): LocatedProblem[] {
  if (issue.code === 'unrecognized_keys') {
    const allowed = knownFields(schema, issue.path, input);
    return issue.keys.map((key) => ({
      segments: [...issue.path, key],
      path: formatPath([...issue.path, key]),
      message: unknownFieldMessage(key, allowed),
      key: true,
    }));
  }
  return [{ segments: [...issue.path], path: formatPath(issue.path), message: issueMessage(issue) }];
}

function unknownFieldMessage(key: string, allowed: string[]): string {
  const guess = suggest(key, allowed);
  if (guess !== undefined) return `unknown field; did you mean '${guess}'?`;
  return allowed.length > 0 ? `unknown field; allowed fields: ${allowed.join(', ')}` : 'unknown field';
}

function issueMessage(issue: Issue): string {
  const got = `got ${describeValue(issue.input)}`;
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? `required field is missing (${expected(issue.expected)})` : `must be ${expected(issue.expected)}, ${got}`;
    case 'too_small':
      return tooSmall(issue, got);
    case 'too_big':
      return tooBig(issue, got);
    case 'invalid_value':
      if (issue.input === undefined) return `required field is missing; allowed values: ${issue.values.map(String).join(', ')}`;
      return issue.values.length === 1
        ? `must be ${describeValue(issue.values[0])}, ${got}`
        : `must be one of ${issue.values.map(String).join(', ')}; ${got}`;
    case 'invalid_format':
      return `${issue.message}; ${got}`;
    case 'invalid_union':
      return unionMessage(issue, got);
    default:
      return issue.message;
  }
}

function expected(type: string): string {
  const names: Record<string, string> = { int: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', array: 'a list', object: 'an object (a mapping)', record: 'an object (a mapping)' };
  return names[type] ?? type;
}

function tooSmall(issue: z.core.$ZodIssueTooSmall, got: string): string {
  const min = String(issue.minimum);
  if (issue.origin === 'array') return `must have at least ${min} item(s), got ${countOf(issue.input)}`;
  if (issue.origin === 'string') return issue.minimum === 1 ? 'must not be empty' : `must have at least ${min} characters, ${got}`;
  return `must be ${issue.inclusive ? '>=' : '>'} ${min}, ${got}`;
}

function tooBig(issue: z.core.$ZodIssueTooBig, got: string): string {
  const max = String(issue.maximum);
  if (issue.origin === 'array') return `must have at most ${max} item(s), got ${countOf(issue.input)}`;
  if (issue.origin === 'string') return `must have at most ${max} characters, got ${countOf(issue.input)}`;
  return `must be ${issue.inclusive ? '<=' : '<'} ${max}, ${got}`;
}

function countOf(value: unknown): string {
  return Array.isArray(value) ? String(value.length) : typeof value === 'string' ? String(value.length) : describeValue(value);
}

// Discriminated unions (layers, datasets) fail as a whole when `type` is unknown or missing.
function unionMessage(issue: z.core.$ZodIssueInvalidUnion, got: string): string {
  const options = 'options' in issue && Array.isArray(issue.options) ? issue.options.map(String) : [];
  if (options.length === 0) return `${issue.message}; ${got}`;
  // The issue's input is the whole object; the offending value is its discriminator field.
  const key = 'discriminator' in issue && typeof issue.discriminator === 'string' ? issue.discriminator : 'type';
  const value = typeof issue.input === 'object' && issue.input !== null ? (issue.input as Record<string, unknown>)[key] : undefined;
  const what = options.includes('dense') ? 'layer type' : 'dataset type';
  if (value === 'batchNormalization' && what === 'layer type') return BATCH_NORMALIZATION_MESSAGE;
  if (typeof issue.input !== 'object' || issue.input === null) return `must be an object with a ${key} field, ${got}`;
  if (value === undefined) return `required field is missing; allowed ${what}s: ${options.join(', ')}`;
  const guess = typeof value === 'string' ? suggest(value, options) : undefined;
  const hint = guess === undefined ? '' : ` (did you mean '${guess}'?)`;
  return `unknown ${what} ${describeValue(value)}${hint}; allowed ${what}s: ${options.join(', ')}`;
}
