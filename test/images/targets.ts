// The images the Dockerfile's targets make, under the names the chart and the operator use by
// default, so a cluster that has them runs the chart with its default values.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const TARGETS = ['operator', 'stage', 'stage-gpu'] as const;
export type Target = (typeof TARGETS)[number];

/** The chart's appVersion: the operator image tag and the default stage image tag. */
export function appVersion(repoRoot: string): string {
  const match = /^appVersion:\s*"?([^"\s]+)"?/m.exec(readFileSync(join(repoRoot, 'charts/pipetrain/Chart.yaml'), 'utf8'));
  if (!match?.[1]) throw new Error('charts/pipetrain/Chart.yaml has no appVersion');
  return match[1];
}

export function imageReference(target: Target, version: string): string {
  switch (target) {
    case 'operator':
      return `ghcr.io/pipetrain/pipetrain-operator:${version}`;
    case 'stage':
      return `ghcr.io/pipetrain/pipetrain:${version}`;
    case 'stage-gpu':
      return `ghcr.io/pipetrain/pipetrain:${version}-gpu`;
  }
}
