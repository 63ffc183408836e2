// SGD, momentum, Adam and AdamW written over tf ops, one variable at a time in a fixed order.
// Our own implementation (instead of tf.train.*) keeps every piece of optimizer state visible:
// the slots per variable and Adam's running beta powers as plain float64 numbers, so a checkpoint
// can save and restore them exactly (tfjs recomputes them with pow() on setWeights; see tfjs.md §7).
import * as tf from '@tensorflow/tfjs-core';
import type { NamedVariable } from '../model/layers.ts';

export interface OptimizerConfig {
  type: 'sgd' | 'momentum' | 'adam' | 'adamw';
  momentum: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** adamw: decoupled decay per step, times the learning rate (PyTorch's AdamW). */
  weightDecay: number;
}

export interface Optimizer {
  /** Applies one update; `gradients[i]` belongs to `variables[i]`. Does not dispose the gradients. */
  apply(gradients: tf.Tensor[], learningRate: number): void;
  /** Slot tensors by name (`<variable>/m`, `/v`, `/momentum`) and scalar state, for checkpoints. */
  state(): { slots: Map<string, tf.Tensor>; scalars: Record<string, number> };
  /** Restores what state() returned (slot values by name); throws when a slot is missing. */
  restore(slots: Map<string, Float32Array>, scalars: Record<string, number>): void;
  dispose(): void;
}

export function createOptimizer(config: OptimizerConfig, variables: NamedVariable[]): Optimizer {
  switch (config.type) {
    case 'sgd': return sgd(variables);
    case 'momentum': return momentum(variables, config.momentum);
    case 'adam':
    case 'adamw':
      return adam(variables, config);
  }
}

function sgd(variables: NamedVariable[]): Optimizer {
  return {
    apply(gradients, learningRate) {
      tf.tidy(() => {
        const rate = tf.scalar(learningRate);
        variables.forEach((v, i) => v.variable.assign(tf.sub(v.variable, tf.mul(gradients[i]!, rate))));
      });
    },
    state: () => ({ slots: new Map(), scalars: {} }),
    restore() {},
    dispose() {},
  };
}

function momentum(variables: NamedVariable[], coefficient: number): Optimizer {
  const velocity = variables.map((v) => zeroSlot(v));
  return {
    apply(gradients, learningRate) {
      tf.tidy(() => {
        const rate = tf.scalar(learningRate);
        const mu = tf.scalar(coefficient);
        variables.forEach((v, i) => {
          const next = tf.add(tf.mul(velocity[i]!, mu), gradients[i]!);
          velocity[i]!.assign(next);
          v.variable.assign(tf.sub(v.variable, tf.mul(next, rate)));
        });
      });
    },
    state: () => ({ slots: new Map(variables.map((v, i) => [`${v.name}/momentum`, velocity[i]!])), scalars: {} }),
    restore: (slots) => variables.forEach((v, i) => assignSlot(velocity[i]!, slots, `${v.name}/momentum`)),
    dispose: () => velocity.forEach((t) => t.dispose()),
  };
}

/**
 * Adam; for adamw also decoupled weight decay, as PyTorch's AdamW: w ← w·(1 − lr·decay) before the
 * Adam step, on weights with two or more dimensions only (nanoGPT: not biases or LayerNorm gains).
 */
function adam(variables: NamedVariable[], config: OptimizerConfig): Optimizer {
  const decays = variables.map((v) => config.type === 'adamw' && config.weightDecay > 0 && v.variable.rank >= 2);
  const first = variables.map((v) => zeroSlot(v));
  const second = variables.map((v) => zeroSlot(v));
  // Running products beta^t, kept as float64 and multiplied once per step.
  let beta1Power = 1;
  let beta2Power = 1;
  return {
    apply(gradients, learningRate) {
      beta1Power *= config.beta1;
      beta2Power *= config.beta2;
      tf.tidy(() => {
        const b1 = tf.scalar(config.beta1);
        const b2 = tf.scalar(config.beta2);
        const oneMinusB1 = tf.scalar(1 - config.beta1);
        const oneMinusB2 = tf.scalar(1 - config.beta2);
        const correction1 = tf.scalar(1 - beta1Power);
        const correction2 = tf.scalar(1 - beta2Power);
        const epsilon = tf.scalar(config.epsilon);
        const rate = tf.scalar(learningRate);
        const keep = tf.scalar(1 - learningRate * config.weightDecay);
        variables.forEach((v, i) => {
          const g = gradients[i]!;
          const m = tf.add(tf.mul(first[i]!, b1), tf.mul(g, oneMinusB1));
          const s = tf.add(tf.mul(second[i]!, b2), tf.mul(tf.square(g), oneMinusB2));
          first[i]!.assign(m);
          second[i]!.assign(s);
          const update = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(s, correction2)), epsilon));
          const decayed = decays[i] ? tf.mul(v.variable, keep) : v.variable;
          v.variable.assign(tf.sub(decayed, tf.mul(update, rate)));
        });
      });
    },
    state: () => ({
      slots: new Map(variables.flatMap((v, i) => [[`${v.name}/m`, first[i]!], [`${v.name}/v`, second[i]!]] as [string, tf.Tensor][])),
      scalars: { beta1Power, beta2Power },
    }),
    restore(slots, scalars) {
      variables.forEach((v, i) => {
        assignSlot(first[i]!, slots, `${v.name}/m`);
        assignSlot(second[i]!, slots, `${v.name}/v`);
      });
      if (scalars.beta1Power === undefined || scalars.beta2Power === undefined) throw new Error('checkpoint lacks Adam beta powers');
      beta1Power = scalars.beta1Power;
      beta2Power = scalars.beta2Power;
    },
    dispose: () => [...first, ...second].forEach((t) => t.dispose()),
  };
}

/** A non-trainable zero tensor shaped like the variable (tf.variable copies its initial value). */
function zeroSlot(v: NamedVariable): tf.Variable {
  const zeros = tf.zerosLike(v.variable);
  const slot = tf.variable(zeros, false);
  zeros.dispose();
  return slot;
}

function assignSlot(slot: tf.Variable, values: Map<string, Float32Array>, name: string): void {
  const data = values.get(name);
  if (!data) throw new Error(`checkpoint lacks optimizer slot ${name}`);
  if (data.length !== slot.size) throw new Error(`optimizer slot ${name} has ${data.length} values, expected ${slot.size}`);
  tf.tidy(() => slot.assign(tf.tensor(data, slot.shape)));
}
