// Finds the object schema that applies at a path of an input document, so unknown-field messages can
// suggest the field that was probably meant. Follows wrappers, lists and discriminated unions.
import { z } from 'zod';

type AnySchema = z.ZodType;

/** Field names allowed at `path` of `input`, or [] when the path is not an object in the schema. */
export function knownFields(schema: AnySchema, path: readonly PropertyKey[], input: unknown): string[] {
  let node: AnySchema | undefined = schema;
  let value = input;
  for (const segment of path) {
    node = child(resolve(node, value), segment);
    value = pick(value, segment);
    if (node === undefined) return [];
  }
  const object = resolve(node, value);
  return object instanceof z.ZodObject ? Object.keys(object.shape) : [];
}

/** Peels wrappers (optional, default, transform...) and picks the union option matching the input. */
export function resolve(schema: AnySchema, value: unknown): AnySchema {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) return resolve(schema.unwrap() as AnySchema, value);
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault) return resolve(schema.unwrap() as AnySchema, value);
  if (schema instanceof z.ZodPipe) return resolve(schema.in as AnySchema, value);
  if (schema instanceof z.ZodDiscriminatedUnion) return unionOption(schema, value) ?? schema;
  return schema;
}

function unionOption(union: z.ZodDiscriminatedUnion, value: unknown): AnySchema | undefined {
  const key = union.def.discriminator;
  const wanted = pick(value, key);
  return (union.options as AnySchema[]).find((option) => {
    const field = option instanceof z.ZodObject ? (option.shape as Record<string, AnySchema>)[key] : undefined;
    return field instanceof z.ZodLiteral && field.values.has(wanted as z.core.util.Literal);
  });
}

function child(schema: AnySchema, segment: PropertyKey): AnySchema | undefined {
  if (schema instanceof z.ZodObject) return (schema.shape as Record<string, AnySchema>)[String(segment)];
  if (schema instanceof z.ZodArray) return schema.element as AnySchema;
  if (schema instanceof z.ZodRecord) return schema.valueType as AnySchema;
  return undefined;
}

function pick(value: unknown, segment: PropertyKey): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  return (value as Record<PropertyKey, unknown>)[segment];
}
