// Losses over a micro-batch. Models end in softmax for the crossentropy losses (checked by
// `validate`), so crossentropy is computed on probabilities, clipped away from 0 like Keras does.
import * as tf from '@tensorflow/tfjs-core';

export type LossName = 'categoricalCrossentropy' | 'sparseCategoricalCrossentropy' | 'meanSquaredError';

const EPSILON = 1e-7;

/** Mean loss over the micro-batch's samples, multiplied by `scale` (1/micro-batches: the one place the loss is scaled). */
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
  }
}

function crossentropy(probabilities: tf.Tensor, oneHot: tf.Tensor): tf.Tensor {
  const clipped = tf.clipByValue(probabilities, EPSILON, 1 - EPSILON);
  return tf.neg(tf.sum(tf.mul(oneHot, tf.log(clipped)), -1));
}

/** Number of samples whose arg-max prediction equals the label (sparse labels or one-hot targets). */
export function countCorrect(name: LossName, predictions: tf.Tensor, targets: tf.Tensor): number {
  if (name === 'meanSquaredError') return 0;
  return tf.tidy(() => {
    const predicted = tf.argMax(predictions, -1);
    const labels = name === 'sparseCategoricalCrossentropy' ? tf.cast(targets, 'int32') : tf.argMax(targets, -1);
    return tf.sum(tf.cast(tf.equal(predicted, labels), 'int32')).dataSync()[0]!;
  });
}
