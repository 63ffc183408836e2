// docs/api.md: the PipelineJob reference, one table per object, rendered from the same JSON Schema
// as the CRD (before unions are merged, so each layer and dataset type gets its own table).
import { ALWAYS_CHANGEABLE, CHANGEABLE_WHILE_SUSPENDED, IMMUTABLE } from './crd-rules.ts';
import { pipelineJobJsonSchema, type JsonSchema } from './json-schema.ts';
import { API_GROUP, API_VERSION, KIND, SHORT_NAME } from './schema.ts';

export const API_DOCS_PATH = 'docs/api.md';

interface Section {
  title: string;
  node: JsonSchema;
}

export function renderApiDocs(): string {
  const intro = [
    `# ${KIND} API reference (${API_GROUP}/${API_VERSION})`,
    '',
    '<!-- Generated from trainer/src/api/schema.ts by trainer/src/api/generate-crd.ts. Do not edit; run `npm run generate:crd`. -->',
    '',
    `A \`${KIND}\` (short name \`${SHORT_NAME}\`) describes one pipeline-parallel training job. The same file runs locally with`,
    '`pipetrain train FILE` and on Kubernetes through the operator; `pipetrain validate FILE` checks it and prints every problem.',
    'Defaults are filled in when a job is loaded. Besides the per-field rules below, `validate` checks that fields agree: stages <= layers,',
    'partition sums to the layer count, batchSize divisible by microBatches, steps or epochs (not both), layer shapes, a softmax last',
    'layer for crossentropy losses, and it rejects `batchNormalization` (not exact under micro-batching; use `layerNormalization`).',
    'On Kubernetes the API server checks the cross-field rules CEL can express (all of the above but the model checks) when a job is created.',
    '',
    '**Updating a job.** The API server enforces these rules on every update:',
    `- never changeable (they define the training run; create a new job instead): ${list(IMMUTABLE)};`,
    `- changeable only while \`suspend\` is true (in the same or an earlier update); they apply when the job resumes: ${list(CHANGEABLE_WHILE_SUSPENDED)}.`,
    '  The checkpoint is stored per layer, so a job may resume on a different number of stages and still ends with the same weights;',
    `- changeable at any time: ${list(ALWAYS_CHANGEABLE)}.`,
    '',
  ];
  return [...intro, ...collectSections('PipelineJob', pipelineJobJsonSchema()).map(renderSection)].join('\n');
}

function collectSections(title: string, node: JsonSchema): Section[] {
  const variants = (node.oneOf ?? node.anyOf) as JsonSchema[] | undefined;
  if (variants !== undefined && variants.every((v) => v.type === 'object')) {
    return variants.flatMap((variant) => collectSections(`${title} (type: ${variantName(variant)})`, variant));
  }
  if (node.type === 'array' && isSchema(node.items)) return collectSections(`${title}[]`, node.items);
  if (node.type !== 'object' || !isSchema(node.properties)) return [];
  const children = Object.entries(node.properties as Record<string, JsonSchema>).flatMap(([key, child]) =>
    collectSections(`${baseTitle(title)}.${key}`, child),
  );
  return [{ title, node }, ...children];
}

// Nested titles start from the field path, without the "(type: ...)" of a variant.
function baseTitle(title: string): string {
  return title === 'PipelineJob' ? '' : title.replace(/^\./, '').replace(/ \(type: (\w+)\)/g, '');
}

function renderSection({ title, node }: Section): string {
  const name = title.replace(/^\./, '');
  const required = new Set((node.required as string[] | undefined) ?? []);
  const rows = Object.entries(node.properties as Record<string, JsonSchema>).map(
    ([key, child]) => `| \`${key}\` | ${typeOf(child)} | ${defaultOf(child, required.has(key))} | ${escape(text(child.description))} |`,
  );
  const lead = typeof node.description === 'string' ? [escape(node.description), ''] : [];
  return [`## \`${name}\``, '', ...lead, '| Field | Type | Default | Description |', '| --- | --- | --- | --- |', ...rows, ''].join('\n');
}

function typeOf(node: JsonSchema): string {
  if (Array.isArray(node.enum)) return node.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  const variants = (node.oneOf ?? node.anyOf) as JsonSchema[] | undefined;
  if (variants !== undefined && variants.every((v) => v.type === 'object')) return `object (type ${variants.map(variantName).join(', ')})`;
  if (variants !== undefined) return variants.map(typeOf).join(' or ');
  if (node.type === 'array') return `list of ${isSchema(node.items) ? typeOf(node.items) : 'any'}`;
  if (node.type === 'object' && isSchema(node.additionalProperties)) return `map of ${typeOf(node.additionalProperties)}`;
  return text(node.type) || 'any';
}

function defaultOf(node: JsonSchema, required: boolean): string {
  if (node.default !== undefined) return `\`${JSON.stringify(node.default)}\``;
  return required ? 'required' : '';
}

function variantName(variant: JsonSchema): string {
  const tag = (variant.properties as Record<string, JsonSchema> | undefined)?.type?.enum;
  return Array.isArray(tag) ? String(tag[0]) : '?';
}

function isSchema(value: unknown): value is JsonSchema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function escape(value: string): string {
  return value.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function list(fields: readonly string[]): string {
  return fields.map((field) => `\`spec.${field}\``).join(', ');
}
