// Mutated PipelineJob files: structural mutations of a parsed job (fields deleted, renamed, retyped,
// set to edge values, arrays grown or emptied) and textual ones of its YAML (lines dropped, doubled
// or re-indented, bytes inserted, truncation, alias bombs). Base jobs train offline (synthetic data).
import { stringify } from 'yaml';
import type { Rng } from './rng.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Bases that train offline in a second: the synthetic MLP and CNN of test/support/tiny-jobs.ts. */
export const BASE_JOBS: Array<{ name: string; job: Json }> = [
  {
    name: 'tiny-mlp',
    job: {
      apiVersion: 'pipetrain.io/v1alpha1', kind: 'PipelineJob', metadata: { name: 'tiny' },
      spec: {
        model: {
          inputShape: [12], loss: 'sparseCategoricalCrossentropy',
          layers: [
            { type: 'dense', units: 16, activation: 'relu' }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 16 },
            { type: 'layerNormalization' }, { type: 'activation', activation: 'tanh' }, { type: 'dense', units: 4, activation: 'softmax' },
          ],
        },
        pipeline: { stages: 2, microBatches: 2 },
        data: { dataset: { type: 'synthetic', seed: 3, samples: 400, featureShape: [12], classes: 4 }, batchSize: 20, validationSplit: 0.1 },
        training: { steps: 3, optimizer: { type: 'adam', learningRate: 0.01 }, gradientClipNorm: 1, backend: 'cpu' },
      },
    },
  },
  {
    name: 'tiny-conv',
    job: {
      apiVersion: 'pipetrain.io/v1alpha1', kind: 'PipelineJob', metadata: { name: 'tiny-conv' },
      spec: {
        model: {
          inputShape: [8, 8, 1], loss: 'categoricalCrossentropy',
          layers: [
            { type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }, { type: 'maxPooling2d', poolSize: 2 },
            { type: 'conv2d', filters: 4, kernelSize: 3, strides: 2 }, { type: 'flatten' }, { type: 'dense', units: 3, activation: 'softmax' },
          ],
        },
        pipeline: { stages: 2, microBatches: 2, schedule: 'GPipe' },
        data: { dataset: { type: 'synthetic', seed: 5, samples: 200, featureShape: [8, 8, 1], classes: 3 }, batchSize: 8 },
        training: { steps: 2, optimizer: { type: 'momentum', learningRate: 0.05 }, backend: 'cpu' },
      },
    },
  },
];

/** Values a mutation puts in a field: plausible ones (so some mutants still validate) and hostile ones. */
function randomValue(rng: Rng): Json {
  return rng.pick<() => Json>([
    () => rng.between(-2, 12),
    () => rng.pick([0, 1, 2, 3, 4, 8, 16, 32]),
    () => rng.pick([0.5, 0.001, 1e-9, -0.1, 1.5]),
    () => rng.pick([2 ** 31, 2 ** 53, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2]),
    () => rng.pick(['relu', 'tanh', 'softmax', 'dense', 'conv2d', 'adam', 'sgd', 'GPipe', '1F1B', 'same', 'valid', 'cpu', 'auto', 'synthetic', 'mnist']),
    () => rng.pick(['', ' ', '../../etc/passwd', '/dev/zero', '${HOME}', '__proto__', 'constructor', 'a'.repeat(5000), '\u0000', '😀']),
    () => rng.chance(0.5),
    () => null,
    () => [],
    () => [rng.between(1, 8), rng.between(1, 8)],
    () => ({}),
    () => ({ type: rng.pick(['dense', 'conv2d', 'flatten', 'dropout', 'bogus']), units: rng.between(1, 8) }),
  ])();
}

/** Every path to a value in the job, for picking one. */
function paths(value: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const here = [prefix];
  if (Array.isArray(value)) return [...here, ...value.flatMap((item, i) => paths(item, [...prefix, i]))];
  if (value !== null && typeof value === 'object') return [...here, ...Object.entries(value).flatMap(([key, item]) => paths(item, [...prefix, key]))];
  return here;
}

function parentOf(root: Json, path: Array<string | number>): { parent: Json; key: string | number } | undefined {
  if (path.length === 0) return undefined;
  let parent: Json = root;
  for (const segment of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[segment]!;
  return { parent, key: path.at(-1)! };
}

/** One structural mutation of a copy of `job`; returns the mutant and what was done. */
function mutateStructure(rng: Rng, job: Json): { job: Json; what: string } {
  const copy = structuredClone(job);
  const all = paths(copy).filter((p) => p.length > 0);
  const path = rng.pick(all);
  const at = parentOf(copy, path)!;
  const container = at.parent as Record<string | number, Json> & Json[];
  const name = path.join('.');
  switch (rng.int(6)) {
    case 0:
      if (Array.isArray(container)) container.splice(at.key as number, 1);
      else delete container[at.key];
      return { job: copy, what: `deleted ${name}` };
    case 1:
      if (!Array.isArray(container)) {
        const value = container[at.key]!;
        delete container[at.key];
        container[`${String(at.key)}${rng.pick(['s', 'X', '_', ''])}${rng.pick(['', 'e', 'z'])}`] = value;
        return { job: copy, what: `renamed ${name}` };
      }
      container.push(structuredClone(container[at.key as number]!));
      return { job: copy, what: `duplicated ${name}` };
    case 2: {
      const value = container[at.key]!;
      if (Array.isArray(value)) {
        value.length = rng.int(2) === 0 ? 0 : value.length;
        for (let i = rng.int(30); i > 0; i--) value.push(structuredClone(value[0] ?? randomValue(rng)));
        return { job: copy, what: `resized ${name}` };
      }
      container[at.key] = randomValue(rng);
      return { job: copy, what: `set ${name}` };
    }
    default:
      container[at.key] = randomValue(rng);
      return { job: copy, what: `set ${name}` };
  }
}

/** Textual mutations of YAML: what an editor, a bad merge or a hostile author can produce. */
function mutateText(rng: Rng, text: string): { text: string; what: string } {
  const lines = text.split('\n');
  const i = rng.int(lines.length);
  switch (rng.int(8)) {
    case 0:
      lines.splice(i, 1);
      return { text: lines.join('\n'), what: `dropped line ${i + 1}` };
    case 1:
      lines.splice(i, 0, lines[i]!);
      return { text: lines.join('\n'), what: `doubled line ${i + 1}` };
    case 2:
      lines[i] = `${rng.pick([' ', '  ', '\t', ''])}${lines[i]!.trimStart()}`;
      return { text: lines.join('\n'), what: `re-indented line ${i + 1}` };
    case 3: {
      const at = rng.int(text.length);
      return { text: text.slice(0, at) + rng.pick([':', '-', '[', '{', '"', "'", '&a', '*a', '!!binary', '%YAML 1.1', '\u0000', '#', '|']) + text.slice(at), what: `inserted at ${at}` };
    }
    case 4:
      return { text: text.slice(0, rng.int(text.length)), what: 'truncated' };
    case 5: // billion laughs: each alias doubles the expansion
      return { text: `${text}\nx0: &a0 [lol, lol]\n${Array.from({ length: 30 }, (_, k) => `x${k + 1}: &a${k + 1} [*a${k}, *a${k}]`).join('\n')}\n`, what: 'alias bomb' };
    case 6:
      return { text: `${text}\n---\n${text}`, what: 'two documents' };
    default:
      return { text: rng.bytes(rng.int(200)).toString('latin1'), what: 'random bytes' };
  }
}

export interface MutantJob {
  base: string;
  what: string;
  yaml: string;
}

/** A mutant of a random base: 1-3 structural mutations, and one time in four a textual one on top. */
export function mutantJob(rng: Rng): MutantJob {
  const base = rng.pick(BASE_JOBS);
  let job = base.job;
  const done: string[] = [];
  for (let n = rng.between(1, 3); n > 0; n--) {
    const step = mutateStructure(rng, job);
    job = step.job;
    done.push(step.what);
  }
  let yaml = stringify(job);
  if (rng.chance(0.25)) {
    const step = mutateText(rng, yaml);
    yaml = step.text;
    done.push(step.what);
  }
  return { base: base.name, what: done.join('; '), yaml };
}
