// The images are built under the names the chart and the operator pull by default.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { DEFAULT_STAGE_IMAGE } from '../../trainer/src/contract/stage-pod.ts';
import { appVersion, imageReference } from './targets.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

test("image names match the chart's default values and the operator's default stage image", () => {
  const version = appVersion(REPO);
  const values = parse(readFileSync(`${REPO}charts/pipetrain/values.yaml`, 'utf8')) as { image: { repository: string; tag: string } };
  assert.equal(imageReference('operator', version), `${values.image.repository}:${values.image.tag || version}`);
  assert.equal(imageReference('stage', version), DEFAULT_STAGE_IMAGE);
  assert.equal(imageReference('stage-gpu', version), `${DEFAULT_STAGE_IMAGE}-gpu`);
});
