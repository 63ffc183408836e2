// Cross-field checks that run after the schema accepted a job: things each field allows on its own
// but that together cannot train correctly (or not exactly) in a pipeline.
import { modelLayerCount } from '../model/expand.ts';

/** Evaluation frames a stage may have to queue (its link's mailbox holds 1024); train/evaluation.ts. */
const MAX_EVALUATION_MICRO_BATCHES = 512;
import { problemAt, type LocatedProblem } from './problems.ts';
import { checkFreezing } from './freeze-checks.ts';
import { checkLora } from './lora-checks.ts';
import { checkModel } from './model-checks.ts';
import { checkModelSourceFields } from './model-source-checks.ts';
import type { PipelineJob } from './schema.ts';

// Batch normalization is rejected by name (not as an unknown type) because users expect it to work.
export const BATCH_NORMALIZATION_MESSAGE =
  'batchNormalization is not supported: it is not exact under micro-batching (statistics computed per micro-batch differ from full-batch statistics, so the pipeline would not compute what single-process training computes); use layerNormalization instead';

export function checkSemantics(job: PipelineJob): LocatedProblem[] {
  return [...checkPipeline(job), ...checkData(job), ...checkTraining(job), ...checkCheckpoint(job), ...checkModel(job), ...checkFreezing(job), ...checkLora(job), ...checkModelSourceFields(job)];
}

function checkPipeline(job: PipelineJob): LocatedProblem[] {
  const { pipeline, data, model } = job.spec;
  // A transformerBlock with repeat N counts as N layers: stages may split between its blocks.
  const layers = modelLayerCount(model.layers);
  const counted = layers === model.layers.length ? `${layers}` : `${layers}, each repeated transformerBlock counted`;
  const problems: LocatedProblem[] = [];
  const at = (field: string, message: string) => problems.push(problemAt(['spec', 'pipeline', field], message));
  if (pipeline.stages !== undefined && pipeline.partition !== undefined) {
    problems.push(problemAt(['spec', 'pipeline'], `give either stages (${pipeline.stages}) or partition (${pipeline.partition.length} stages), not both`));
  }
  if (pipeline.stages !== undefined && pipeline.stages > layers) {
    at('stages', `must be <= the number of layers (${counted}), got ${pipeline.stages}: every stage needs at least one layer`);
  }
  const sum = pipeline.partition?.reduce((a, b) => a + b, 0);
  if (sum !== undefined && sum !== layers) {
    at('partition', `layer counts must sum to the number of layers (${counted}), got ${pipeline.partition?.join(' + ')} = ${sum}`);
  }
  if (data.batchSize % pipeline.microBatches !== 0) {
    problems.push(
      problemAt(['spec', 'data', 'batchSize'], `must be divisible by spec.pipeline.microBatches (${pipeline.microBatches}) so micro-batches are equal, got ${data.batchSize}`),
    );
  }
  return problems;
}

/**
 * A synthetic dataset's size is in the spec, so a batch larger than its training part is known
 * here; before, such a job validated and `train` then failed on it (found by test/fuzz/job-fuzz.test.ts).
 * The split is the one splitDataset makes: floor(samples x validationSplit) samples for validation.
 */
function checkData(job: PipelineJob): LocatedProblem[] {
  const { dataset, batchSize, validationSplit } = job.spec.data;
  if (dataset.type !== 'synthetic') return [];
  const trainSamples = dataset.samples - Math.floor(dataset.samples * validationSplit);
  if (batchSize <= trainSamples) return [];
  return [
    problemAt(['spec', 'data', 'batchSize'], `must be <= the ${trainSamples} training samples of the synthetic dataset (spec.data.dataset.samples ${dataset.samples} less the validation split), got ${batchSize}`),
  ];
}

function checkTraining(job: PipelineJob): LocatedProblem[] {
  const { training } = job.spec;
  const problems: LocatedProblem[] = [];
  if (training.steps !== undefined && training.epochs !== undefined) {
    problems.push(problemAt(['spec', 'training'], `give either steps (${training.steps}) or epochs (${training.epochs}), not both`));
  }
  const microBatchSize = job.spec.data.batchSize / job.spec.pipeline.microBatches;
  const evaluationMicroBatches = Math.ceil(training.evalSamples / microBatchSize);
  if (Number.isInteger(microBatchSize) && evaluationMicroBatches > MAX_EVALUATION_MICRO_BATCHES) {
    problems.push(
      problemAt(['spec', 'training', 'evalSamples'], `makes ${evaluationMicroBatches} evaluation micro-batches of ${microBatchSize}, more than the ${MAX_EVALUATION_MICRO_BATCHES} a stage may queue; use at most ${MAX_EVALUATION_MICRO_BATCHES * microBatchSize}`),
    );
  }
  const schedule = training.learningRateSchedule;
  if (schedule.type === 'warmupCosine' && training.steps !== undefined && schedule.warmupSteps > training.steps) {
    problems.push(
      problemAt(
        ['spec', 'training', 'learningRateSchedule', 'warmupSteps'],
        `must be <= spec.training.steps (${training.steps}) for warmupCosine, got ${schedule.warmupSteps}`,
      ),
    );
  }
  if (schedule.type === 'warmupCosine' && schedule.minLearningRate > training.optimizer.learningRate) {
    problems.push(
      problemAt(
        ['spec', 'training', 'learningRateSchedule', 'minLearningRate'],
        `must be <= spec.training.optimizer.learningRate (${training.optimizer.learningRate}), got ${schedule.minLearningRate}`,
      ),
    );
  }
  return problems;
}

function checkCheckpoint(job: PipelineJob): LocatedProblem[] {
  const checkpoint = job.spec.checkpoint;
  if (checkpoint?.persistentVolumeClaim && checkpoint.volumeClaimTemplate) {
    return [problemAt(['spec', 'checkpoint'], 'give either persistentVolumeClaim or volumeClaimTemplate, not both')];
  }
  return [];
}
