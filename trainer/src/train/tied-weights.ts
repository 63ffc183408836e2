// Tied weights across stages, as DeepSpeed's ReduceTiedGrads: the embedding matrix lives on the
// first stage, a tied lmHead's copy of it on the last. Each computes the gradient of its own use,
// accumulated over the step's micro-batches; before the optimizer step the two halves are summed
// in one fixed order (embedding's + head's) on both stages, which then apply the identical update
// to identical values, so the two copies stay bit-identical. The stages are not neighbours: the
// halves are relayed along the chain, each stage in between passing them on unchanged.
import * as tf from '@tensorflow/tfjs-core';
import { jobLayers } from '../model/expand.ts';
import { embeddingWeightName } from '../model/language-model-layers.ts';
import type { NamedVariable } from '../model/layers.ts';
import { rangesFromSizes } from '../model/partition.ts';
import { layerTrains } from '../model/trainable.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import { FrameKind, type Link } from '../transport/index.ts';
import type { FrameReceiver } from './stage-frames.ts';
import { frameToTensor, tensorToFrame } from './tensor-frames.ts';

/** microBatch field of TiedGradient frames: which way the half travels. */
export const TOWARD_COPY = 0;
export const TOWARD_ORIGINAL = 1;

/** What a stage does with a tied weight: none, both uses here, one use here, or pass the halves on. */
export type TiedRole = 'none' | 'local' | 'original' | 'copy' | 'relay';

/** Replaces the two halves of the tied gradient by their sum (disposing what it replaces). */
export type TiedReduction = (grads: tf.Tensor[], step: number) => Promise<tf.Tensor[]>;

export function tiedRole(spec: PipelineJobSpec, partition: number[], stage: number): TiedRole {
  const layers = jobLayers(spec);
  const headIndex = layers.findIndex((layer) => layer.type === 'lmHead' && layer.tied);
  const embeddingIndex = layers.findIndex((layer) => layer.type === 'embedding');
  // A frozen embedding freezes the tied head (the same matrix): no gradient halves to sum.
  if (headIndex < 0 || embeddingIndex < 0 || !layerTrains(spec)[embeddingIndex]) return 'none';
  const stageOf = (layer: number) => rangesFromSizes(partition).findIndex((range) => layer >= range.from && layer < range.to);
  const [original, copy] = [stageOf(embeddingIndex), stageOf(headIndex)];
  if (stage === original && stage === copy) return 'local';
  if (stage === original) return 'original';
  if (stage === copy) return 'copy';
  return stage > original && stage < copy ? 'relay' : 'none';
}

/**
 * The reduction of a stage with `role`, over its trainable weights (in that order, as the gradients).
 * Halves are sent over the links and received through `frames`, which checks each against the
 * tied weight's shape (stage-frames.ts): a half of another shape would broadcast silently.
 */
export function tiedReduction(role: TiedRole, weights: readonly NamedVariable[], links: { upstream?: Link; downstream?: Link; frames?: FrameReceiver }): TiedReduction {
  // The embedding is always layer 0 (model/language-model-shapes.ts), and the copy has its name.
  const originalAt = weights.findIndex((w) => !w.tiedCopy && w.name === embeddingWeightName(0));
  const copyAt = weights.findIndex((w) => w.tiedCopy === true);
  switch (role) {
    case 'none':
      return (grads) => Promise.resolve(grads);
    case 'local':
      return (grads) => Promise.resolve(replace(grads, [originalAt, copyAt], tf.add(grads[originalAt]!, grads[copyAt]!)));
    case 'original':
      return async (grads, step) => {
        const link = links.downstream!;
        await link.send(await tensorToFrame(grads[originalAt]!, FrameKind.TiedGradient, step, TOWARD_COPY));
        const fromCopy = frameToTensor(await links.frames!.receive('downstream', FrameKind.TiedGradient, step, TOWARD_ORIGINAL));
        const sum = tf.add(grads[originalAt]!, fromCopy);
        fromCopy.dispose();
        return replace(grads, [originalAt], sum);
      };
    case 'copy':
      return async (grads, step) => {
        const link = links.upstream!;
        await link.send(await tensorToFrame(grads[copyAt]!, FrameKind.TiedGradient, step, TOWARD_ORIGINAL));
        const fromOriginal = frameToTensor(await links.frames!.receive('upstream', FrameKind.TiedGradient, step, TOWARD_COPY));
        const sum = tf.add(fromOriginal, grads[copyAt]!);
        fromOriginal.dispose();
        return replace(grads, [copyAt], sum);
      };
    case 'relay':
      return async (grads, step) => {
        const { upstream, downstream, frames } = links;
        // Each direction on its own: a relay that waited for both halves before passing either on
        // would deadlock with its neighbouring relay. Checked here too: garbage is the sender's
        // fault, and is stopped at the first stage that gets it.
        await Promise.all([
          frames!.receive('upstream', FrameKind.TiedGradient, step, TOWARD_COPY).then((frame) => downstream!.send(frame)),
          frames!.receive('downstream', FrameKind.TiedGradient, step, TOWARD_ORIGINAL).then((frame) => upstream!.send(frame)),
        ]);
        return grads;
      };
  }
}

/** True for the weights whose gradient counts in the global norm: a tied copy's is the original's. */
export function countsInNorm(weights: readonly NamedVariable[]): boolean[] {
  return weights.map((w) => w.tiedCopy !== true);
}

/** Shape of a tied-gradient frame, [vocabulary, units], or undefined without tied weights. */
export function tiedGradientShape(spec: PipelineJobSpec): [number, number] | undefined {
  const layers = jobLayers(spec);
  const embedding = layers.find((layer) => layer.type === 'embedding');
  const tied = layers.some((layer) => layer.type === 'lmHead' && layer.tied);
  return tied && embedding?.type === 'embedding' ? [embedding.vocabSize!, embedding.units] : undefined;
}

/** Bytes of the largest tied-gradient frame payload (for the links' maxPayload), 0 without tied weights. */
export function tiedGradientBytes(spec: PipelineJobSpec): number {
  const shape = tiedGradientShape(spec);
  return shape ? shape[0] * shape[1] * 4 : 0;
}

function replace(grads: tf.Tensor[], at: number[], sum: tf.Tensor): tf.Tensor[] {
  const out = [...grads];
  for (const i of at) {
    grads[i]!.dispose();
    out[i] = sum;
  }
  return out;
}
