// The PipelineJob CustomResourceDefinition, rendered from the zod schema.
import { stringify } from 'yaml';
import { specValidations } from './crd-rules.ts';
import { jobStatusJsonSchema, pipelineJobJsonSchema, type JsonSchema } from './json-schema.ts';
import { API_GROUP, API_VERSION, KIND, PLURAL, SHORT_NAME } from './schema.ts';
import { toStructural } from './structural.ts';

export const CRD_PATH = `crds/${API_GROUP}_${PLURAL}.yaml`;

const printerColumns = [
  { name: 'Status', type: 'string', jsonPath: '.status.phase', description: 'Phase of the job.' },
  { name: 'Stages', type: 'string', jsonPath: '.status.stagesReady', description: 'Ready stages over all stages, e.g. 3/4.' },
  { name: 'Step', type: 'integer', jsonPath: '.status.step', description: 'Last completed optimizer step.' },
  { name: 'Loss', type: 'string', jsonPath: '.status.loss', description: 'Training loss at the last step.' },
  { name: 'Restarts', type: 'integer', jsonPath: '.status.restarts', description: 'Restarts from a checkpoint so far.' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

function openApiSchema(): JsonSchema {
  const schema = toStructural(pipelineJobJsonSchema(), jobStatusJsonSchema());
  const spec = (schema.properties as Record<string, JsonSchema>).spec as JsonSchema;
  spec['x-kubernetes-validations'] = specValidations();
  return schema;
}

export function buildCrd(): object {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${API_GROUP}` },
    spec: {
      group: API_GROUP,
      scope: 'Namespaced',
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: KIND.toLowerCase(),
        shortNames: [SHORT_NAME],
        categories: ['pipetrain'],
      },
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: openApiSchema() },
          subresources: { status: {} },
          additionalPrinterColumns: printerColumns,
        },
      ],
    },
  };
}

/** The CRD file's text, with a header saying how it is made. */
export function renderCrdYaml(): string {
  const header = [
    '# Generated from trainer/src/api/schema.ts by trainer/src/api/generate-crd.ts. Do not edit.',
    '# Regenerate with: npm run generate:crd',
  ].join('\n');
  return `${header}\n${stringify(buildCrd(), { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
