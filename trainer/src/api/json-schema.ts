// The PipelineJob schema as OpenAPI 3.0 JSON Schema (what Kubernetes understands), cleaned of what
// zod emits for JSON Schema tools but Kubernetes rejects or does not need. Input side: fields with
// defaults are optional, and the defaults appear as `default`.
import { z } from 'zod';
import { PipelineJobSchema } from './schema.ts';
import { JobStatusSchema } from './status-schema.ts';

export type JsonSchema = { [key: string]: unknown };

// z.int() emits the safe-integer range; Kubernetes' int64 needs no such bound.
const SAFE_INTEGER_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

export function pipelineJobJsonSchema(): JsonSchema {
  const raw = z.toJSONSchema(PipelineJobSchema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return clean(raw) as JsonSchema;
}

/** The status the operator writes (output side: what is stored). */
export function jobStatusJsonSchema(): JsonSchema {
  return clean(z.toJSONSchema(JobStatusSchema, { target: 'openapi-3.0', io: 'output' })) as JsonSchema;
}

function clean(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(clean);
  if (node === null || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema' || key === 'propertyNames') continue;
    if (key === 'additionalProperties' && value === false) continue;
    if ((key === 'maximum' || key === 'minimum') && SAFE_INTEGER_BOUNDS.has(value as number)) continue;
    if (key === 'const') out.enum = [value];
    else out[key] = clean(value);
  }
  return out;
}
