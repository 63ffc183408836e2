// Validation loss during training, computed across the pipeline: forward only (no tape, no
// recompute), one pass over the same validation micro-batches every time. Stage 0 feeds them,
// each stage forwards and passes them on, the last stage takes the loss. The arithmetic is the
// single-process forward's layer by layer, so the pipeline's value equals the reference's bit for bit.
// Stage 0 may run ahead by every micro-batch: spec/semantic.ts bounds their count (evalSamples).
import * as tf from '@tensorflow/tfjs-core';
import type { Evaluation } from '../data/step-batches.ts';
import type { ApplyContext } from '../model/layers.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import { FrameKind, type Link } from '../transport/index.ts';
import { computeLoss, maskedTokenLoss, type LossName } from './loss.ts';
import { readScalars } from './read-back.ts';
import type { FrameReceiver } from './stage-frames.ts';
import type { StageModel } from './stage-model.ts';
import { frameToTensor, tensorToFrame } from './tensor-frames.ts';

const FORWARD_ONLY: ApplyContext = { training: false, seed: 0, step: 0, microBatch: 0 };

/** Sends go over `downstream`; frames from upstream are received through `frames` (checked, with the short last micro-batch). */
export interface EvaluationLinks {
  downstream?: Link;
  frames?: FrameReceiver;
}

/** True when the step just completed (0-based `step`) is evaluated: every evalEverySteps, and the last. */
export function evaluationDue(spec: PipelineJobSpec, step: number, totalSteps: number): boolean {
  const completed = step + 1;
  const every = spec.training.evalEverySteps;
  return completed === totalSteps || (every !== undefined && completed % every === 0);
}

/**
 * Runs one evaluation on this stage. Returns the mean validation loss on the last stage (per
 * sample: for language models, the mean over every position of every window; sft: over every completion
 * token), undefined elsewhere.
 */
export async function evaluateStage(model: StageModel, evaluation: Evaluation, lossName: LossName, step: number, links: EvaluationLinks = {}): Promise<number | undefined> {
  const losses: tf.Tensor[] = [];
  try {
    for (let k = 0; k < evaluation.microBatches; k++) {
      const input = model.isFirst ? evaluation.input(k) : frameToTensor(await links.frames!.receive('upstream', FrameKind.Evaluation, step, k));
      const output = model.forward(input, FORWARD_ONLY);
      input.dispose();
      if (!model.isLast) {
        try {
          await links.downstream!.send(await tensorToFrame(output, FrameKind.Evaluation, step, k));
        } finally {
          output.dispose();
        }
        continue;
      }
      const targets = evaluation.targets(k);
      // Mean per sample × samples: this micro-batch's sum of per-sample losses (sft: of its completion tokens' losses).
      const masked = evaluation.completionTokens !== undefined;
      losses.push(tf.tidy(() => (masked ? maskedTokenLoss(output, targets, 1) : computeLoss(lossName, output, targets, targets.shape[0]!))));
      tf.dispose([output, targets]);
    }
    if (!model.isLast) return undefined;
    const sums = await readScalars(losses);
    let total = 0;
    for (const value of sums) total += value;
    return total / (evaluation.completionTokens ?? evaluation.samples);
  } finally {
    tf.dispose(losses);
  }
}
