import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { PIPETRAIN_VERSION } from './version.ts';

test('PIPETRAIN_VERSION is package.json\'s version', async () => {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(PIPETRAIN_VERSION, pkg.version);
});
