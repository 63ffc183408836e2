// A tokens dataset with `prepare` settings is prepared before training: one `pipetrain train` goes
// from raw text to a model. prepare's own cache (by the inputs' content and the settings) makes
// every later run a no-op, so this costs a hash of the inputs once the folder exists.
import type { PipelineJobSpec } from '../api/schema.ts';
import type { ProgressReporter } from './progress-output.ts';

export async function prepareTokenData(spec: PipelineJobSpec, baseDir: string, reporter: ProgressReporter): Promise<void> {
  const dataset = spec.data.dataset;
  if (dataset.type !== 'tokens' || !dataset.prepare) return;
  // Imported only here: the prepare pipeline (and the GPT-2 ranks) is not needed for any other job.
  const { prepare } = await import('../prepare/prepare.ts');
  reporter.info(`Preparing ${dataset.path} from spec.data.dataset.prepare (skipped when up to date)`);
  const result = await prepare(dataset.prepare, { baseDir, out: dataset.path, inputLabel: 'spec.data.dataset.prepare.input', outLabel: 'spec.data.dataset.path' });
  const { meta } = result;
  reporter.info(result.upToDate ? `Prepared data is up to date: ${dataset.path}` : `Prepared ${dataset.path}`, {
    trainTokens: meta.splits.train.tokens, validationTokens: meta.splits.val.tokens, vocabulary: meta.vocabSize, seconds: Number(result.seconds.toFixed(1)),
  });
}
