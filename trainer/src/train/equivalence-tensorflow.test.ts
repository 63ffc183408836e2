// Exactness on the native tensorflow backend (tfjs-node on TensorFlow 2.15.1): pipeline = single
// process bit for bit for the MLP and the CNN, the forward a stage sends equals the one it
// recomputes in its backward, and TensorFlow's fused dense kernel rounds like the unfused one.
// Skipped, with the setup command, when the binding is not set up on this machine.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { loadJobData } from '../data/load.ts';
import { buildLayers, type ApplyContext } from '../model/layers.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import { initBackend } from '../tf/backend.ts';
import { tensorflowSkip } from '../../../test/support/tensorflow.ts';
import { weightsDigest } from './digest.ts';
import { trainPipelineInProcess } from './pipeline-in-process.ts';
import { trainSingleProcess } from './reference.ts';
import { tinyConvJob, tinyMlpJob } from '../../../test/support/tiny-jobs.ts';

const skip = tensorflowSkip();

function onTensorflow(base: PipelineJobSpec, pipeline: PipelineJobSpec['pipeline'], steps?: number): PipelineJobSpec {
  return { ...base, pipeline, training: { ...base.training, backend: 'tensorflow', ...(steps ? { steps } : {}) } };
}

async function assertPipelineEqualsReference(spec: PipelineJobSpec, partition: number[]): Promise<void> {
  const data = await loadJobData(spec);
  const before = tf.memory().numTensors;
  const reference = await trainSingleProcess(spec, data);
  const pipelined = await trainPipelineInProcess(spec, data, partition);
  assert.equal(weightsDigest(pipelined.weights), weightsDigest(reference.weights));
  assert.deepEqual(pipelined.losses, reference.losses);
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
}

const bits = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).slice().buffer);

describe('tensorflow backend: pipeline equals single-process training, bit for bit', { skip }, () => {
  before(async () => {
    assert.equal((await initBackend('tensorflow')).name, 'tensorflow');
    assert.equal(tf.getBackend(), 'tensorflow', 'these tests must not silently run on another backend');
  });

  test('MLP (dropout, layer norm, tanh), 3 stages, 1F1B, 4 micro-batches', async () => {
    const base = tinyMlpJob();
    await assertPipelineEqualsReference(onTensorflow(base, { ...base.pipeline, stages: 3, microBatches: 4, schedule: '1F1B', partitionPolicy: 'parameters' }, 4), [2, 2, 2]);
  });

  test('MLP, 2 stages, GPipe, 5 micro-batches, uneven partition', async () => {
    const base = tinyMlpJob({ data: { ...tinyMlpJob().data, batchSize: 20 } });
    await assertPipelineEqualsReference(onTensorflow(base, { ...base.pipeline, stages: 2, microBatches: 5, schedule: 'GPipe', partitionPolicy: 'parameters' }), [5, 1]);
  });

  test('CNN (native conv2d and its backprop kernels), 3 stages, 1F1B', async () => {
    const base = tinyConvJob();
    await assertPipelineEqualsReference(onTensorflow(base, { ...base.pipeline, stages: 3, microBatches: 4, schedule: '1F1B', partitionPolicy: 'parameters' }), [2, 2, 1]);
  });

  test('CNN, 2 stages, GPipe', async () => {
    const base = tinyConvJob();
    await assertPipelineEqualsReference(onTensorflow(base, { ...base.pipeline, stages: 2, microBatches: 2, schedule: 'GPipe', partitionPolicy: 'parameters' }), [3, 2]);
  });
});

describe('tensorflow backend: forward vs recompute, fused vs unfused', { skip }, () => {
  before(async () => {
    await initBackend('tensorflow');
  });

  test('the forward sent downstream equals the forward recomputed inside the backward tape', () => {
    for (const spec of [tinyMlpJob(), tinyConvJob()]) {
      const layers = buildLayers(spec.model.inputShape, spec.model.layers, 1);
      const ctx: ApplyContext = { training: true, seed: 1, step: 3, microBatch: 2 }; // dropout on
      const x = tf.randomUniform([6, ...spec.model.inputShape], -1, 1, 'float32', 4);
      const apply = () => layers.reduce((h, layer) => layer.apply(h, ctx), x);
      const sent = tf.tidy(apply);
      let recomputed: tf.Tensor | undefined;
      const { value, grads } = tf.engine().gradients(() => {
        const y = apply();
        recomputed = tf.keep(y.clone());
        return tf.sum(y);
      }, [x]);
      assert.ok(bits(sent).equals(bits(recomputed!)), `${spec.model.layers.length}-layer model: forward and recompute differ`);
      tf.dispose([sent, recomputed!, value, ...grads, x, ...layers.flatMap((l) => l.weights.map((w) => w.variable))]);
    }
  });

  test("TensorFlow's fused matMul+bias(+relu) rounds exactly like the unfused ops, forward and gradients (our layers stay unfused anyway: on wasm they differ)", () => {
    const shapes: Array<[number, number, number]> = [[8, 784, 256], [64, 512, 512], [3, 17, 5]];
    for (const [m, k, n] of shapes) {
      const a = tf.randomUniform([m, k], -1, 1, 'float32', 1);
      const w = tf.randomUniform([k, n], -1, 1, 'float32', 2);
      const bias = tf.randomUniform([n], -1, 1, 'float32', 3);
      for (const activation of ['linear', 'relu'] as const) {
        const fused = tf.fused.matMul({ a, b: w, bias, activation });
        const sum = tf.add(tf.matMul(a, w), bias);
        const unfused = activation === 'relu' ? tf.relu(sum) : sum;
        assert.ok(bits(fused).equals(bits(unfused)), `${m}×${k}×${n} ${activation}: fused and unfused forward differ`);
        tf.dispose([fused, sum, unfused]);
      }
      // Inside a tape tfjs fuses only linear activations (with its own gradient): compare those gradients.
      const dy = tf.randomUniform([m, n], -1, 1, 'float32', 5);
      const fusedGrads = tf.grads((x: tf.Tensor, kernel: tf.Tensor, b: tf.Tensor) => tf.fused.matMul({ a: x as tf.Tensor2D, b: kernel as tf.Tensor2D, bias: b }))([a, w, bias], dy);
      const plainGrads = tf.grads((x: tf.Tensor, kernel: tf.Tensor, b: tf.Tensor) => tf.add(tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D), b))([a, w, bias], dy);
      fusedGrads.forEach((g, i) => assert.ok(bits(g).equals(bits(plainGrads[i]!)), `${m}×${k}×${n}: gradient ${i} differs`));
      tf.dispose([a, w, bias, dy, ...fusedGrads, ...plainGrads]);
    }
  });
});
