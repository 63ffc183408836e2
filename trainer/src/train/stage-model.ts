// The arithmetic of one pipeline stage: a contiguous slice of the model's layers.
// A tfjs gradient tape cannot stay open across an `await` (waiting for the downstream gradient),
// so a non-last stage recomputes its forward inside the backward pass; only the stage input is kept
// per in-flight micro-batch. The last stage computes forward, loss and backward in one tape.
import * as tf from '@tensorflow/tfjs-core';
import type { ApplyContext, Layer, NamedVariable } from '../model/layers.ts';
import type { WeightBytes } from './digest.ts';
import { computeLoss, maskedTokenLoss, type LossName } from './loss.ts';

/** What of a stage trains (model/trainable.ts); by default every weight, and the input gradient on all but the first stage. */
export interface StageTraining {
  /** The weights that get gradients, in model order. */
  trainable: NamedVariable[];
  /** Whether the gradient with respect to the stage input is computed (something upstream trains). */
  inputGradient: boolean;
}

export interface StageGradients {
  /** Gradients of the stage's trainable weights, in `trainable` order. */
  grads: tf.Tensor[];
  /** Gradient with respect to the stage input; absent when nobody upstream needs it (the first stage, or a frozen one before). */
  dx?: tf.Tensor;
  /** Scaled micro-batch loss (a scalar the caller disposes); only on the last stage. Read it once per step with `readLossSum`. */
  loss?: tf.Tensor;
}

export class StageModel {
  /** Every weight of the stage (checkpoints, digests); `trainable` is the part that gets gradients. */
  readonly weights: NamedVariable[];
  readonly trainable: NamedVariable[];
  readonly inputGradient: boolean;

  readonly layers: Layer[];
  readonly isFirst: boolean;
  readonly isLast: boolean;
  private readonly lossName: LossName;
  /** 1 / micro-batches: the loss is scaled here and nowhere else (sft: by the scale lossAndBackward is given). */
  private readonly lossScale: number;

  constructor(
    layers: Layer[],
    isFirst: boolean,
    isLast: boolean,
    lossName: LossName,
    lossScale: number,
    training?: StageTraining,
  ) {
    this.layers = layers;
    this.isFirst = isFirst;
    this.isLast = isLast;
    this.lossName = lossName;
    this.lossScale = lossScale;
    this.weights = layers.flatMap((layer) => layer.weights);
    this.trainable = training?.trainable ?? this.weights;
    this.inputGradient = training?.inputGradient ?? !isFirst;
  }

  /** Current values of the stage's weights, for the digest and the supervisor (copied out of the backend). */
  weightBytes(): WeightBytes[] {
    return this.layers.flatMap((layer) =>
      layer.weights.map((w) => ({ name: w.name, layerIndex: layer.index, data: w.variable.dataSync() as Float32Array, ...(w.tiedCopy ? { tiedCopy: true } : {}) })),
    );
  }

  /** Forward pass without a tape, for sending activations downstream (and for evaluation). */
  forward(x: tf.Tensor, ctx: ApplyContext): tf.Tensor {
    return tf.tidy(() => this.apply(x, ctx));
  }

  /** Backward of a non-last stage: recomputes the forward and back-propagates `dy`. */
  backward(x: tf.Tensor, dy: tf.Tensor, ctx: ApplyContext): StageGradients {
    return this.gradients(() => this.apply(x, ctx), x, dy);
  }

  /**
   * Forward, loss and backward of the last stage in one tape. With `completionScale` (sft: 1 / the
   * batch's completion tokens) the targets are packed with their mask and the loss is the masked sum
   * times it; otherwise the mean times 1/micro-batches.
   */
  lossAndBackward(x: tf.Tensor, targets: tf.Tensor, ctx: ApplyContext, completionScale?: number): StageGradients {
    const loss = (output: tf.Tensor) => completionScale === undefined ? computeLoss(this.lossName, output, targets, this.lossScale) : maskedTokenLoss(output, targets, completionScale);
    return this.gradients(() => loss(this.apply(x, ctx)), x, undefined, true);
  }

  private apply(x: tf.Tensor, ctx: ApplyContext): tf.Tensor {
    return this.layers.reduce((h, layer) => layer.apply(h, ctx), x);
  }

  /** Gradients of `f` (and its value, when `keepValue`: the loss). */
  private gradients(f: () => tf.Tensor, x: tf.Tensor, dy?: tf.Tensor, keepValue = false): StageGradients {
    const variables = this.trainable.map((w) => w.variable);
    const xs = this.inputGradient ? [x, ...variables] : variables;
    if (xs.length === 0) return keepValue ? { grads: [], loss: tf.tidy(f) } : { grads: [] };
    const { value, grads } = tf.engine().gradients(f, xs, dy, true);
    const filled = grads.map((g, i) => g ?? tf.zerosLike(xs[i]!));
    const loss = keepValue ? value : (value.dispose(), undefined);
    return this.inputGradient ? { grads: filled.slice(1), dx: filled[0]!, loss } : { grads: filled, loss };
  }
}

/** Sums micro-batch gradients in arrival order (ascending micro-batch: the schedules guarantee it). */
export class GradientAccumulator {
  private sums: tf.Tensor[] | undefined;

  add(grads: tf.Tensor[]): void {
    if (!this.sums) {
      this.sums = grads;
      return;
    }
    const previous = this.sums;
    this.sums = previous.map((sum, i) => tf.add(sum, grads[i]!));
    previous.forEach((t) => t.dispose());
    grads.forEach((t) => t.dispose());
  }

  /** Hands over the sums and resets; the caller disposes them. */
  take(): tf.Tensor[] {
    const sums = this.sums ?? [];
    this.sums = undefined;
    return sums;
  }
}
