// What the CLI checks of spec.model.from when it reads a job file (`pipetrain validate` and
// `pipetrain train`, before anything runs or is written): `layers: fromModel` is filled in from the
// model file, and the source must exist, verify and fit the job's layers by name and shape. The
// fit is checked by the code every stage runs: the whole model is built once and started from the
// source, then dropped.
import { dirname, resolve } from 'node:path';
import type { LoadHooks } from '../api/load.ts';
import { ownCheckpointProblems } from '../api/model-source-checks.ts';
import { LAYERS_FROM_MODEL } from '../api/model-source-schema.ts';
import { problemAt, type LocatedProblem } from '../api/problems.ts';
import type { PipelineJob } from '../api/schema.ts';
import type { Log } from '../checkpoint/index.ts';
import { expandLayers } from '../model/expand.ts';
import { needsVocabulary, resolveVocabulary, statedVocabSize } from '../model/vocabulary.ts';
import { buildStage } from '../train/job-model.ts';
import { openWeightSource } from './open-source.ts';
import { startFromSource } from './start-from-source.ts';
import { ModelSourceError, type WeightSource } from './weight-source.ts';

/** The load hooks for a job file at `jobFile`; its source paths are relative to its folder. `log` gets the notes (fresh and ignored layers). */
export function modelSourceHooks(jobFile: string, log: Log = () => undefined): LoadHooks {
  const baseDir = dirname(resolve(jobFile));
  return {
    resolveInput: (input) => resolveLayersFromModel(input, baseDir),
    checkJob: (job) => checkModelSource(job, baseDir, log),
  };
}

type RawJob = { spec?: { model?: { layers?: unknown; inputShape?: unknown; from?: { tfjsLayers?: unknown } } } };

/** `layers: fromModel` → the layers of spec.model.from.tfjsLayers (and its inputShape, when not given). */
export async function resolveLayersFromModel(input: unknown, baseDir: string): Promise<{ input: unknown } | { problems: LocatedProblem[] }> {
  const model = (input as RawJob | null)?.spec?.model;
  if (model?.layers !== LAYERS_FROM_MODEL) return { input };
  const at = ['spec', 'model', 'layers'];
  const path = model.from?.tfjsLayers;
  if (typeof path !== 'string') return { problems: [problemAt(at, `"${LAYERS_FROM_MODEL}" takes the layers of a model file: set spec.model.from.tfjsLayers to its model.json, or list the layers`)] };
  let source: WeightSource;
  try {
    source = await openWeightSource({ tfjsLayers: path }, baseDir, () => undefined);
  } catch (error) {
    return { problems: [sourceProblem(error)] };
  }
  if (model.inputShape !== undefined && JSON.stringify(model.inputShape) !== JSON.stringify(source.inputShape)) {
    return { problems: [problemAt(['spec', 'model', 'inputShape'], `must equal the input shape of ${source.where}, [${source.inputShape?.join(', ')}], with layers: ${LAYERS_FROM_MODEL}; got ${JSON.stringify(model.inputShape)}; leave it out to take the file's`)] };
  }
  const resolved = structuredClone(input) as RawJob;
  resolved.spec!.model!.layers = source.layers;
  resolved.spec!.model!.inputShape = source.inputShape;
  return { input: resolved };
}

/** Problems of a valid job with spec.model.from: the source is missing, does not verify, or does not fit. */
export async function checkModelSource(job: PipelineJob, baseDir: string, log: Log): Promise<LocatedProblem[]> {
  const { from } = job.spec.model;
  if (!from) return [];
  const own = ownCheckpointProblems(job, baseDir);
  if (own.length > 0) return own;
  try {
    const source = await openWeightSource(from, baseDir, log, { verify: 'full' });
    const spec = withSourceVocabulary(job.spec, source);
    const { model, optimizer } = buildStage(spec, 0, expandLayers(spec.model.layers).layers.length);
    try {
      const plan = await startFromSource({ spec, weights: model.weights, optimizer }, source);
      for (const note of plan.notes) log('info', note);
    } finally {
      optimizer.dispose();
      model.weights.forEach((w) => w.variable.dispose());
    }
    return [];
  } catch (error) {
    if (!(error instanceof ModelSourceError)) throw error;
    return [sourceProblem(error)];
  }
}

/** A tokens job's vocabulary is known once its data is prepared; for the check, the source's stands in. */
function withSourceVocabulary(spec: PipelineJob['spec'], source: WeightSource): PipelineJob['spec'] {
  if (!needsVocabulary(spec.model.layers)) return spec;
  return { ...spec, model: { ...spec.model, layers: resolveVocabulary(spec.model.layers, statedVocabSize(source.layers)) } };
}

/** A ModelSourceError's message starts with the field it is about: that becomes the problem's path. */
export function sourceProblem(error: unknown): LocatedProblem {
  if (!(error instanceof ModelSourceError)) throw error;
  const match = /^(spec(?:\.[A-Za-z]+|\[\d+\])*): (.*)$/s.exec(error.message);
  if (!match) return problemAt(['spec', 'model', 'from'], error.message);
  const segments = [...match[1]!.matchAll(/([A-Za-z]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
  return problemAt(segments, match[2]!);
}
