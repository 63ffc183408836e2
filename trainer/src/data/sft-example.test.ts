// examples/moby-dick-sft.yaml stays usable: it validates, and every demonstration of its file
// tokenizes with the Moby Dick characters (the folder moby-dick-gpt.yaml prepares) and fits the
// window whole (none skipped, no answer cut).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatProblems, loadPipelineJobFile } from '../api/load.ts';
import { mobyDickText, writeTokenFolder } from '../../../test/support/token-folders.ts';
import { loadSftData } from './sft-data.ts';

const EXAMPLE = fileURLToPath(new URL('../../../examples/moby-dick-sft.yaml', import.meta.url));

test('the sft example validates and its demonstrations use only Moby Dick characters, each whole within the window', async () => {
  const loaded = await loadPipelineJobFile(EXAMPLE);
  assert.ok(loaded.ok, loaded.ok ? '' : formatProblems(loaded.problems, EXAMPLE));
  const folder = join(await mkdtemp(join(tmpdir(), 'pipetrain-sft-example-')), 'moby-dick-chars');
  await writeTokenFolder(folder, await mobyDickText());
  const spec = loaded.job.spec;
  const dataset = spec.data.dataset;
  assert.equal(dataset.type, 'sft');
  const data = await loadSftData({ ...spec, data: { ...spec.data, dataset: { ...dataset, tokenizer: { type: 'prepared', path: folder } } as typeof dataset } }, dirname(EXAMPLE));
  const lines = (await readFile(join(dirname(EXAMPLE), 'moby-dick-qa.jsonl'), 'utf8')).trim().split('\n');
  assert.equal(data.skipped.count, 0);
  assert.equal(data.train.count + data.validation.count, lines.length);
  const window = spec.model.inputShape[0]!;
  for (const line of lines) {
    const { prompt, completion } = JSON.parse(line) as { prompt: string; completion: string };
    assert.ok([...prompt, ...completion].length <= window + 1, `${prompt}${completion} is cut by the window of ${window}`);
  }
});
