// Runs one optimizer step of one stage by executing its action list in order.
// The order comes from the schedule module; this file decides nothing about it. Each action kind
// maps to one handler; tensors that must outlive an action (stage inputs kept for recompute,
// outputs waiting to be sent, gradients waiting to go upstream) live in per-micro-batch slots.
import * as tf from '@tensorflow/tfjs-core';
import type { Action } from '../schedule/index.ts';
import { FrameKind, type Link } from '../transport/index.ts';
import type { ApplyContext } from '../model/layers.ts';
import { optimizerStep, type NormExchange } from './optimizer-step.ts';
import type { Optimizer } from './optimizer.ts';
import { readLossSum } from './read-back.ts';
import { GradientAccumulator, type StageGradients, type StageModel } from './stage-model.ts';
import type { StageFrames } from './stage-frames.ts';
import { frameToTensor, tensorToFrame } from './tensor-frames.ts';
import type { TiedReduction } from './tied-weights.ts';

export interface StageRuntime {
  model: StageModel;
  optimizer: Optimizer;
  program: readonly Action[];
  /** Link to stage − 1 (absent on the first stage) and to stage + 1 (absent on the last). */
  upstream?: Link;
  downstream?: Link;
  /** Stage 0: the input micro-batch. Last stage: its targets. */
  input(step: number, microBatch: number): tf.Tensor;
  targets(step: number, microBatch: number): tf.Tensor;
  /** sft: 1 / completion tokens of the step's batch, the scale of every micro-batch's masked loss (data/sft-batches.ts). */
  completionScale?(step: number): number;
  seed: number;
  clipNorm?: number;
  exchangeNorm: NormExchange;
  /** Exchange the norm at every OPT even without clipping: frozen leading stages are held back by it (norm-exchange.ts). */
  normHandshake: boolean;
  /** Receives every frame from the neighbours, checked and with a timeout (stage-frames.ts). */
  frames: StageFrames;
  /** Sums the two halves of a tied weight's gradient before the update (tied-weights.ts). */
  reduceTied: TiedReduction;
  /** Which of the stage's gradients count in the global norm (not a tied copy's). */
  countsInNorm: readonly boolean[];
}

export interface StepTimes {
  /** Seconds spent computing (forward, backward, optimizer); the three parts follow. */
  computeSeconds: number;
  forwardSeconds: number;
  backwardSeconds: number;
  optimizerSeconds: number;
  /** Seconds spent waiting for a neighbour's frame. */
  idleSeconds: number;
  wallSeconds: number;
}

export interface StepResult extends StepTimes {
  step: number;
  /** Sum of the scaled micro-batch losses (the batch mean); only on the last stage. */
  loss?: number;
  gradientNorm?: number;
  /** Validation loss after this step, when it was evaluated (last stage only; see evaluation.ts). */
  valLoss?: number;
}

/** Tensors that outlive one action, per micro-batch. */
class Slots {
  /** Stage inputs, kept from F until B for the recompute. */
  readonly inputs = new Map<number, tf.Tensor>();
  /** Outputs waiting for SEND_F. */
  readonly outputs = new Map<number, tf.Tensor>();
  /** Gradients from downstream, waiting for B. */
  readonly downstreamGrads = new Map<number, tf.Tensor>();
  /** Input gradients waiting for SEND_B. */
  readonly upstreamGrads = new Map<number, tf.Tensor>();
  /** Last stage: results of the combined forward/backward, waiting for B. */
  readonly lastStageResults = new Map<number, StageGradients>();
  /** Last stage: micro-batch losses in F order, read once at the end of the step. */
  readonly losses: tf.Tensor[] = [];

  dispose(): void {
    tf.dispose(this.losses.splice(0));
    for (const map of [this.inputs, this.outputs, this.downstreamGrads, this.upstreamGrads]) for (const t of map.values()) t.dispose();
    for (const result of this.lastStageResults.values()) tf.dispose([...result.grads, ...(result.dx ? [result.dx] : [])]);
  }
}

export async function runStep(runtime: StageRuntime, step: number, learningRate: number): Promise<StepResult> {
  const slots = new Slots();
  const accumulator = new GradientAccumulator();
  const times = { computeSeconds: 0, idleSeconds: 0, forwardSeconds: 0, backwardSeconds: 0, optimizerSeconds: 0 };
  const started = performance.now();
  let loss: number | undefined;
  let gradientNorm: number | undefined;
  const ctx = (microBatch: number): ApplyContext => ({ training: true, seed: runtime.seed, step, microBatch });
  // A frozen leading stage's program has no B (schedule/frozen.ts): it keeps no input for a recompute.
  const keepsInputs = runtime.program.some((a) => a.kind === 'B');
  /** Runs `work`, adding its duration to `bucket` (and to computeSeconds for compute parts). */
  const timed = async <T>(bucket: keyof typeof times, work: () => T | Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      const seconds = (performance.now() - t0) / 1000;
      times[bucket] += seconds;
      if (bucket !== 'idleSeconds' && bucket !== 'computeSeconds') times.computeSeconds += seconds;
    }
  };

  try {
    for (const action of runtime.program) {
      const mb = action.microBatch ?? 0;
      switch (action.kind) {
        case 'RECV_F': {
          const frame = await timed('idleSeconds', () => runtime.frames.receive('upstream', FrameKind.Activation, step, mb));
          slots.inputs.set(mb, frameToTensor(frame));
          break;
        }
        case 'F':
          await timed('forwardSeconds', () => forward(runtime, slots, mb, ctx(mb), keepsInputs));
          break;
        case 'SEND_F':
          await timed('computeSeconds', () => sendAndDispose(runtime.downstream!, slots.outputs, FrameKind.Activation, step, mb));
          break;
        case 'RECV_B': {
          const frame = await timed('idleSeconds', () => runtime.frames.receive('downstream', FrameKind.Gradient, step, mb));
          slots.downstreamGrads.set(mb, frameToTensor(frame));
          break;
        }
        case 'B':
          await timed('backwardSeconds', () => backward(runtime, slots, mb, ctx(mb), accumulator));
          break;
        case 'SEND_B':
          await timed('computeSeconds', () => sendAndDispose(runtime.upstream!, slots.upstreamGrads, FrameKind.Gradient, step, mb));
          break;
        case 'OPT':
          gradientNorm = await timed('optimizerSeconds', async () => {
            const grads = await runtime.reduceTied(accumulator.take(), step);
            return optimizerStep({ optimizer: runtime.optimizer, step, grads, learningRate, clipNorm: runtime.clipNorm, exchangeNorm: runtime.exchangeNorm, countsInNorm: runtime.countsInNorm, handshake: runtime.normHandshake });
          });
          break;
      }
    }
    loss = await timed('computeSeconds', () => readLossSum(slots.losses.splice(0)));
  } finally {
    slots.dispose();
    accumulator.take().forEach((t) => t.dispose());
  }
  const wallSeconds = (performance.now() - started) / 1000;
  return { step, loss, gradientNorm, ...times, wallSeconds };
}

/**
 * F on a non-last stage computes the output to send and keeps the input for the recompute.
 * F on the last stage does forward, loss and backward in one tape (no recompute needed); its B
 * then hands the results on, so gradients are still accumulated in B order; the loss waits in `losses`.
 */
function forward(runtime: StageRuntime, slots: Slots, mb: number, ctx: ApplyContext, keepsInputs: boolean): void {
  const { model } = runtime;
  const input = model.isFirst ? runtime.input(ctx.step, mb) : slots.inputs.get(mb)!;
  slots.inputs.set(mb, input);
  if (!model.isLast) {
    slots.outputs.set(mb, model.forward(input, ctx));
    if (!keepsInputs) {
      slots.inputs.delete(mb);
      input.dispose();
    }
    return undefined;
  }
  const targets = runtime.targets(ctx.step, mb);
  const { loss, ...result } = model.lossAndBackward(input, targets, ctx, runtime.completionScale?.(ctx.step));
  targets.dispose();
  slots.lastStageResults.set(mb, result);
  if (loss) slots.losses.push(loss);
}

function backward(runtime: StageRuntime, slots: Slots, mb: number, ctx: ApplyContext, accumulator: GradientAccumulator): void {
  const { model } = runtime;
  const input = slots.inputs.get(mb)!;
  let result: StageGradients;
  if (model.isLast) {
    result = slots.lastStageResults.get(mb)!;
    slots.lastStageResults.delete(mb);
  } else {
    const dy = slots.downstreamGrads.get(mb)!;
    slots.downstreamGrads.delete(mb);
    result = model.backward(input, dy, ctx);
    dy.dispose();
  }
  accumulator.add(result.grads);
  if (result.dx) slots.upstreamGrads.set(mb, result.dx);
  slots.inputs.delete(mb);
  input.dispose();
}

async function sendAndDispose(link: Link, slot: Map<number, tf.Tensor>, kind: number, step: number, mb: number): Promise<void> {
  const tensor = slot.get(mb)!;
  slot.delete(mb);
  try {
    await link.send(await tensorToFrame(tensor, kind, step, mb));
  } finally {
    tensor.dispose();
  }
}
