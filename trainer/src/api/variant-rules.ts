// CEL rules for a discriminated union merged into one structural node (structural.ts): the merged
// node allows every field of every variant, so these rules give back what each variant requires and
// allows, e.g. `self.type != 'dense' || has(self.units)`. Without them the API server would admit a
// dense layer without units, and only the operator would fail the job.
import type { CelRule } from './crd-rules.ts';
import type { JsonSchema } from './json-schema.ts';

interface Variant {
  tag: string;
  properties: string[];
  required: string[];
}

/** The rules of one union, or none when a variant has no `type` tag to tell it apart. */
export function variantRules(variants: JsonSchema[]): CelRule[] {
  const parsed = variants.map(parseVariant);
  if (parsed.some((v) => v === undefined)) return [];
  const all = parsed as Variant[];
  const fields = [...new Set(all.flatMap((v) => v.properties))].filter((field) => field !== 'type');
  return fields.flatMap((field) => [...requiredRules(all, field), ...allowedRule(all, field)]);
}

function parseVariant(variant: JsonSchema): Variant | undefined {
  const properties = variant.properties as Record<string, JsonSchema> | undefined;
  const tag = (properties?.type?.enum as unknown[] | undefined)?.[0];
  if (properties === undefined || typeof tag !== 'string') return undefined;
  return { tag, properties: Object.keys(properties), required: (variant.required as string[] | undefined) ?? [] };
}

// A field every variant requires is already in the merged node's `required`.
function requiredRules(variants: Variant[], field: string): CelRule[] {
  const requiring = variants.filter((v) => v.required.includes(field));
  if (requiring.length === variants.length) return [];
  return requiring.map(({ tag }) => ({
    rule: `self.type != '${tag}' || has(self.${field})`,
    message: `required for type ${tag}: set ${field}`,
    fieldPath: `.${field}`,
    reason: 'FieldValueRequired' as const,
  }));
}

function allowedRule(variants: Variant[], field: string): CelRule[] {
  const users = variants.filter((v) => v.properties.includes(field)).map((v) => v.tag);
  if (users.length === variants.length) return [];
  return [
    {
      rule: `!has(self.${field}) || ${users.map((tag) => `self.type == '${tag}'`).join(' || ')}`,
      message: `unknown field for this type: ${field} applies only to type ${users.join(', ')}; remove it or change type`,
      fieldPath: `.${field}`,
    },
  ];
}
