// Writes the generated files derived from the PipelineJob schema:
//   crds/pipetrain.io_pipelinejobs.yaml, its copy in the Helm chart's crds/ folder, and docs/api.md.
// Usage: npm run generate:crd [-- --check]   (--check exits 1 when a committed file is stale)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { API_DOCS_PATH, renderApiDocs } from './api-docs.ts';
import { CRD_PATH, renderCrdYaml } from './crd.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Every generated file: repository-relative path and its fresh content. */
export function generatedFiles(): { path: string; content: string }[] {
  return [
    { path: CRD_PATH, content: renderCrdYaml() },
    // Helm installs CRDs only from the chart's own crds/ folder, so the chart carries a copy.
    { path: `charts/pipetrain/${CRD_PATH}`, content: renderCrdYaml() },
    { path: API_DOCS_PATH, content: renderApiDocs() },
  ];
}

/** Paths whose committed content differs from a fresh render. */
export function staleFiles(): string[] {
  return generatedFiles()
    .filter(({ path, content }) => readOrEmpty(`${root}${path}`) !== content)
    .map(({ path }) => path);
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function main(args: string[]): void {
  if (args.includes('--check')) {
    const stale = staleFiles();
    for (const path of stale) console.error(`${path} is stale; run: npm run generate:crd`);
    process.exitCode = stale.length > 0 ? 1 : 0;
    return;
  }
  for (const { path, content } of generatedFiles()) {
    writeFileSync(`${root}${path}`, content);
    console.log(`wrote ${path}`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
