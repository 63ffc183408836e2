// Turns the cleaned JSON Schema into a Kubernetes structural schema: every node typed, discriminated
// unions merged into one object node, lists atomic, metadata left to the API server.
import type { JsonSchema } from './json-schema.ts';

export function toStructural(node: JsonSchema, status: JsonSchema): JsonSchema {
  const out = structural(node);
  const properties = out.properties as Record<string, JsonSchema>;
  properties.apiVersion = { type: 'string', description: describe(properties.apiVersion) };
  properties.kind = { type: 'string', description: describe(properties.kind) };
  // The API server owns metadata; a CRD may not say more than `type: object` about it (a real
  // kube-apiserver rejects even a description there: "must not specify anything other than name
  // and generateName").
  properties.metadata = { type: 'object' };
  properties.status = structural(status);
  return out;
}

function describe(node: JsonSchema | undefined): string {
  return typeof node?.description === 'string' ? node.description : '';
}

function structural(node: JsonSchema): JsonSchema {
  const variants = (node.oneOf ?? node.anyOf) as JsonSchema[] | undefined;
  if (variants !== undefined) return structural(mergeVariants(node, variants));
  const out: JsonSchema = { ...node };
  // An enum bounds a string's length; saying so lets the API server price CEL rules over it.
  if (out.type === 'string' && Array.isArray(out.enum) && out.maxLength === undefined) {
    out.maxLength = Math.max(...out.enum.map((value) => String(value).length));
  }
  if (isObject(out.properties)) out.properties = mapValues(out.properties as Record<string, JsonSchema>, structural);
  if (isObject(out.additionalProperties)) out.additionalProperties = structural(out.additionalProperties as JsonSchema);
  if (out.type === 'array') {
    out['x-kubernetes-list-type'] = 'atomic';
    if (isObject(out.items)) out.items = structural(out.items as JsonSchema);
  }
  return out;
}

function mergeVariants(node: JsonSchema, variants: JsonSchema[]): JsonSchema {
  const { oneOf: _oneOf, anyOf: _anyOf, ...rest } = node;
  if (isIntOrString(variants)) {
    const maxLength = variants.find((v) => v.type === 'string')?.maxLength;
    return { ...rest, 'x-kubernetes-int-or-string': true, ...(maxLength !== undefined ? { maxLength } : {}) };
  }
  if (!variants.every((v) => v.type === 'object' && isObject(v.properties))) {
    throw new Error(`cannot make a structural schema from a union of ${variants.map((v) => String(v.type)).join(', ')}`);
  }
  return { ...rest, type: 'object', properties: mergeProperties(variants), required: commonRequired(variants) };
}

// Kubernetes applies defaults to every variant of a merged node, so variant defaults are dropped
// (the trainer fills them in); descriptions still state them and name the variants using each field.
function mergeProperties(variants: JsonSchema[]): Record<string, JsonSchema> {
  const merged: Record<string, JsonSchema> = {};
  const users: Record<string, string[]> = {};
  for (const variant of variants) {
    const properties = variant.properties as Record<string, JsonSchema>;
    const tag = ((properties.type?.enum as unknown[] | undefined) ?? []).map(String);
    for (const [key, schema] of Object.entries(properties)) {
      const { default: _default, ...plain } = schema;
      merged[key] ??= plain;
      (users[key] ??= []).push(...tag);
    }
  }
  const typeNames = variants.flatMap((v) => ((v.properties as Record<string, JsonSchema>).type?.enum as string[] | undefined) ?? []);
  for (const [key, schema] of Object.entries(merged)) {
    const usedBy = users[key] ?? [];
    if (key === 'type') {
      merged[key] = { type: 'string', enum: typeNames, maxLength: Math.max(...typeNames.map((name) => name.length)), description: `type: one of ${typeNames.join(', ')}; decides which other fields apply.` };
    } else if (usedBy.length < variants.length) {
      merged[key] = { ...schema, description: `${describe(schema)} (type ${usedBy.join(', ')})` };
    }
  }
  return merged;
}

function commonRequired(variants: JsonSchema[]): string[] {
  const lists = variants.map((v) => (v.required as string[] | undefined) ?? []);
  return (lists[0] ?? []).filter((key) => lists.every((list) => list.includes(key)));
}

function isIntOrString(variants: JsonSchema[]): boolean {
  const types = new Set(variants.map((v) => v.type));
  return variants.length === 2 && types.has('string') && (types.has('number') || types.has('integer'));
}

function isObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function mapValues<T, U>(record: Record<string, T>, fn: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, fn(value)]));
}
