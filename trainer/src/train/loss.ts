// Losses over a micro-batch. Models end in softmax for the (sparse) categorical crossentropy losses
// (checked by `validate`), so those are computed on probabilities, clipped away from 0 like Keras
// does. tokenCrossentropy (language models) is computed from logits with a log-softmax, whose
// custom gradient (softmax − one-hot) stays exact for confident predictions.
import * as tf from '@tensorflow/tfjs-core';

export type LossName = 'categoricalCrossentropy' | 'sparseCategoricalCrossentropy' | 'meanSquaredError' | 'tokenCrossentropy';

const EPSILON = 1e-7;

/**
 * Mean loss over the micro-batch's samples (tokenCrossentropy: over every position of every sample),
 * multiplied by `scale` (1/micro-batches: the one place the loss is scaled).
 */
export function computeLoss(name: LossName, predictions: tf.Tensor, targets: tf.Tensor, scale: number): tf.Scalar {
  const perSample = perSampleLoss(name, predictions, targets);
  return tf.mul(tf.mean(perSample), tf.scalar(scale)) as tf.Scalar;
}

function perSampleLoss(name: LossName, predictions: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'meanSquaredError': {
      const errors = tf.square(tf.sub(predictions, targets));
      return errors.rank > 1 ? tf.mean(errors, -1) : errors;
    }
    case 'categoricalCrossentropy':
      return crossentropy(predictions, targets);
    case 'sparseCategoricalCrossentropy': {
      const classes = predictions.shape[predictions.rank - 1]!;
      return crossentropy(predictions, tf.oneHot(tf.cast(targets, 'int32') as tf.Tensor1D, classes));
    }
    case 'tokenCrossentropy':
      return tokenCrossentropy(predictions, targets);
  }
}

/**
 * −log softmax(logits)[target] per position: logits [..., vocab], targets [...] (token ids).
 * The target's log-probability is picked with a one-hot product, whose gradient is a plain
 * multiplication on every backend (a gather's would need UnsortedSegmentSum).
 */
export function tokenCrossentropy(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  const vocab = logits.shape[logits.rank - 1]!;
  const logProbabilities = tf.logSoftmax(tf.reshape(logits, [-1, vocab]) as tf.Tensor2D);
  const ids = tf.cast(tf.reshape(targets, [-1]), 'int32') as tf.Tensor1D;
  const picked = tf.mul(tf.cast(tf.oneHot(ids, vocab), 'float32'), logProbabilities);
  return tf.neg(tf.sum(picked, -1));
}

/**
 * sft: the sum of −log softmax(logits)[target] over the completion-token targets only, times
 * `scale` (1 / completion tokens of the whole batch: data/sft-batches.ts). `packed` is
 * [rows, 2, window] int32: next-token ids, then the mask (1: completion token; 0: prompt or
 * padding, whose targets count for nothing, in the loss and in every gradient).
 */
export function maskedTokenLoss(logits: tf.Tensor, packed: tf.Tensor, scale: number): tf.Scalar {
  const [ids, mask] = tf.unstack(packed, 1);
  const perPosition = tokenCrossentropy(logits, ids!);
  const counted = tf.mul(perPosition, tf.cast(tf.reshape(mask!, [-1]), 'float32'));
  return tf.mul(tf.sum(counted), tf.scalar(scale)) as tf.Scalar;
}

function crossentropy(probabilities: tf.Tensor, oneHot: tf.Tensor): tf.Tensor {
  const clipped = tf.clipByValue(probabilities, EPSILON, 1 - EPSILON);
  return tf.neg(tf.sum(tf.mul(oneHot, tf.log(clipped)), -1));
}

/** Number of samples whose arg-max prediction equals the label (sparse labels or one-hot targets). */
export function countCorrect(name: LossName, predictions: tf.Tensor, targets: tf.Tensor): number {
  if (name === 'meanSquaredError' || name === 'tokenCrossentropy') return 0;
  return tf.tidy(() => {
    const predicted = tf.argMax(predictions, -1);
    const labels = name === 'sparseCategoricalCrossentropy' ? tf.cast(targets, 'int32') : tf.argMax(targets, -1);
    return tf.sum(tf.cast(tf.equal(predicted, labels), 'int32')).dataSync()[0]!;
  });
}
