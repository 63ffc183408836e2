// Test helpers for the Helm chart: find the helm binary (built by `npm run cluster:tools`), render the
// chart with `helm template`, lint it, and parse the output into objects.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { toolsBinDir } from '../cluster/tools.ts';

const run = promisify(execFile);

export const REPO_ROOT = new URL('../../', import.meta.url).pathname;
export const CHART_DIR = join(REPO_ROOT, 'charts/pipetrain');
export const ALL_ON_VALUES = join(REPO_ROOT, 'test/chart/values-all-on.yaml');

/** A rendered Kubernetes object (only the fields the tests read are typed). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** $HELM_BIN, else helm in the cluster-tools cache, else `helm` on PATH. */
export function helmBinary(): string {
  if (process.env.HELM_BIN) return process.env.HELM_BIN;
  const cached = join(toolsBinDir(), 'helm');
  return existsSync(cached) ? cached : 'helm';
}

export async function helm(args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(helmBinary(), args, { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`helm not found (${helmBinary()}): run \`npm run -s cluster:tools\` or set HELM_BIN.`, { cause: err });
    throw new Error(`helm ${args.join(' ')} failed:\n${e.stderr ?? ''}${e.stdout ?? ''}`, { cause: err });
  }
}

/** Renders the chart as release "pt" in namespace "pipetrain-system" and parses every object. */
export async function render(options: { values?: string[]; set?: string[]; apiVersions?: string[] } = {}): Promise<K8sObject[]> {
  const args = ['template', 'pt', CHART_DIR, '--namespace', 'pipetrain-system', '--include-crds'];
  for (const file of options.values ?? []) args.push('--values', file);
  for (const s of options.set ?? []) args.push('--set', s);
  for (const v of options.apiVersions ?? []) args.push('--api-versions', v);
  const { stdout } = await helm(args);
  return parseObjects(stdout);
}

export function parseObjects(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML in the rendered chart: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as K8sObject | null;
    if (value) objects.push(value);
  }
  return objects;
}

/** The one object of `kind` (and `name`, when given); throws when there is none or more than one. */
export function one(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found[0] as K8sObject;
}

export function kinds(objects: K8sObject[]): string[] {
  return objects.map((o) => o.kind).sort();
}
