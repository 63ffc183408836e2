// The stage protocol's frame checks on real loopback links: which keys a stage admits from each
// neighbour (the short last evaluation micro-batch, tied halves, the one-step window), the typed
// error of a frame that does not fit or does not come, and a screened link closing on a wrong key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkPair } from '../../../test/support/link-helpers.ts';
import { tinyGptJob } from '../../../test/support/gpt-jobs.ts';
import { tinyMlpJob } from '../../../test/support/tiny-jobs.ts';
import { jobLayers } from '../model/expand.ts';
import { inferLayerShapes } from '../model/shapes.ts';
import { resolveVocabulary } from '../model/vocabulary.ts';
import { FrameKind, LinkClosedError, type Frame, type Link } from '../transport/index.ts';
import { PeerFrameError } from './expected-frames.ts';
import { RESUME_FRAME_ELEMENTS, StageFrames } from './stage-frames.ts';

// A tied GPT of 7 layers on two stages [3, 4]: stage 1 holds the head's copy of the embedding.
// 4 steps of 2 micro-batches of 2 rows; every 2nd step evaluates 5 samples (2 + 2 + 1 rows).
const job = tinyGptJob('unused', { tied: true });
const spec = { ...job, training: { ...job.training, evalEverySteps: 2, evalSamples: 5 }, model: { ...job.model, layers: resolveVocabulary(job.model.layers, 5) } };
const boundary = inferLayerShapes(spec.model.inputShape, jobLayers(spec)).outputShapes[2]!; // [8, 16]

function stage1(upstream?: Link, receiveTimeoutMs?: number): StageFrames {
  return new StageFrames({
    spec, partition: [3, 4], stage: 1, plan: { microBatchSize: 2, totalSteps: 4 }, evaluation: { samples: 5, microBatches: 3 }, upstream, receiveTimeoutMs,
  });
}

const float32 = (kind: number, step: number, microBatch: number, shape: number[]): Frame => ({
  kind, step, microBatch, dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
});

test('from upstream: activations, evaluation rows (the last micro-batch short), tied halves, the norm, heartbeats, the resume step', () => {
  const frames = stage1();
  const admitted = [
    float32(FrameKind.Activation, 0, 1, [2, ...boundary]),
    float32(FrameKind.Evaluation, 1, 0, [2, ...boundary]),
    float32(FrameKind.Evaluation, 1, 2, [1, ...boundary]),
    float32(FrameKind.Evaluation, 3, 2, [1, ...boundary]),
    float32(FrameKind.TiedGradient, 2, 0, [5, 16]),
    { kind: FrameKind.GradNorm, step: 0, microBatch: 1, dtype: 'float64', shape: [1], data: new Float64Array(1) },
    { kind: FrameKind.Heartbeat, step: 0, microBatch: 17, dtype: 'uint8', shape: [0], data: new Uint8Array(0) },
    { kind: FrameKind.Control, step: 0, microBatch: 0, dtype: 'float64', shape: [RESUME_FRAME_ELEMENTS], data: new Float64Array(RESUME_FRAME_ELEMENTS) },
  ] satisfies Frame[];
  for (const frame of admitted) assert.equal(frames.admit(frame, 'upstream'), undefined, `${frame.kind}/${frame.step}/${frame.microBatch}`);
});

test('refused, each with a sentence naming the sender, the key and why', () => {
  const frames = stage1();
  const refused: Array<[Frame, RegExp]> = [
    [float32(FrameKind.Evaluation, 1, 2, [2, ...boundary]), /^the upstream stage \(stage 0\) sent a Evaluation frame for step 1, micro-batch 2 as float32 \[2, 8, 16\], expected float32 \[1, 8, 16\]$/],
    [float32(FrameKind.Evaluation, 0, 0, [2, ...boundary]), /Evaluation frame for step 0, micro-batch 0, which is never due: step 0 is not evaluated/],
    [float32(FrameKind.Evaluation, 1, 3, [1, ...boundary]), /which is never due: an evaluation has micro-batches 0 to 2/],
    [float32(FrameKind.Activation, 0, 2, [2, ...boundary]), /which is never due: a step has micro-batches 0 to 1/],
    [float32(FrameKind.Activation, 4, 0, [2, ...boundary]), /which is never due: the run has steps 0 to 3/],
    [float32(FrameKind.Gradient, 0, 0, [2, ...boundary]), /which is never due: gradients come from the downstream stage/],
    [float32(FrameKind.TiedGradient, 0, 1, [5, 16]), /which is never due: a tied gradient from upstream comes as micro-batch 0/],
    [{ ...float32(FrameKind.TiedGradient, 0, 0, [5, 16]), dtype: 'float64', data: new Float64Array(80) }, /TiedGradient frame for step 0, micro-batch 0 as float64 \[5, 16\], expected float32 \[5, 16\]/],
    [float32(FrameKind.Heartbeat, 1, 0, [0]), /heartbeats are numbered under step 0/],
  ];
  for (const [frame, why] of refused) assert.match(frames.admit(frame, 'upstream') ?? 'admitted', why);
  // The same tied half is never due from downstream on the copy's stage (stage 1 is the last: no downstream).
  assert.match(frames.admit(float32(FrameKind.TiedGradient, 0, 1, [5, 16]), 'downstream') ?? 'admitted', /the downstream stage \(stage 2\).*gets no tied gradient from downstream/);
});

test('the window: the current step and the next may arrive; earlier steps are over, later ones too far ahead, the resume step done', () => {
  const frames = stage1();
  frames.enterStep(1);
  const activation = (step: number) => frames.admit(float32(FrameKind.Activation, step, 0, [2, ...boundary]), 'upstream');
  assert.equal(activation(1), undefined);
  assert.equal(activation(2), undefined, 'the next step is legitimately early');
  assert.match(activation(0) ?? 'admitted', /which is not due: step 0 is over \(this stage is at step 1\)/);
  assert.match(activation(3) ?? 'admitted', /which is not due: step 3 is more than one step ahead of this stage \(step 1\)/);
  assert.match(frames.admit({ kind: FrameKind.Control, step: 0, microBatch: 0, dtype: 'float64', shape: [RESUME_FRAME_ELEMENTS], data: new Float64Array(RESUME_FRAME_ELEMENTS) }, 'upstream') ?? 'admitted', /the resume step was agreed before training/);
});

test('a due frame that does not come ends the wait with PeerFrameError naming the frame, the neighbour and the limit', async () => {
  const pair = await linkPair();
  try {
    const frames = stage1(pair.accepted, 200);
    // Sent under a key one step early: admitted, but not the one awaited.
    await pair.client.send(float32(FrameKind.Activation, 1, 0, [2, ...boundary]));
    await assert.rejects(frames.receive('upstream', FrameKind.Activation, 0, 0), (error: Error) =>
      error instanceof PeerFrameError && /^no Activation frame for step 0, micro-batch 0 came from the upstream stage \(stage 0\) within 0.2 s \(receiveTimeoutMs\)/.test(error.message));
  } finally {
    await pair.closeAll();
  }
});

test('a screened link closes with 1008 on a wrong key, arrived before or after screening; the waiting receive fails with the reason', async () => {
  for (const early of [true, false]) {
    const pair = await linkPair();
    try {
      const frames = stage1(pair.accepted);
      const waiting = early ? undefined : frames.screenLinks().receive('upstream', FrameKind.Activation, 0, 0);
      await pair.client.send(float32(FrameKind.Activation, 0, 9, [2, ...boundary]));
      if (early) {
        await new Promise((resolve) => setTimeout(resolve, 50)); // in the mailbox before the screen
        frames.screenLinks();
      }
      const info = await pair.accepted.closed;
      assert.equal(info.code, 1008);
      assert.match(info.reason, /^the upstream stage \(stage 0\) sent a Activation frame for step 0, micro-batch 9, which is never due: a step has micro-batches 0 to 1$/);
      assert.equal((await pair.client.closed).code, 1008, 'the sender is told');
      if (waiting) await assert.rejects(waiting, (error: Error) => error instanceof LinkClosedError && /micro-batch 9, which is never due/.test(error.message));
    } finally {
      await pair.closeAll();
    }
  }
});

test('receiveTimeoutMs must be a positive integer', () => {
  assert.throws(() => stage1(undefined, 0), /receiveTimeoutMs must be a positive integer \(ms\), got 0/);
});

test('a frozen leading stage: gradients are never due from downstream; the norm handshake is, even without clipping', () => {
  const mlp = tinyMlpJob();
  const unclipped = { ...mlp, training: { ...mlp.training, gradientClipNorm: undefined } };
  const frozen = { ...unclipped, training: { ...unclipped.training, freeze: { layers: 1 } } };
  const stage0 = (jobSpec: typeof mlp) => new StageFrames({ spec: jobSpec, partition: [2, 4], stage: 0, plan: { microBatchSize: 2, totalSteps: 3 } });
  const gradient = float32(FrameKind.Gradient, 0, 0, [2, 16]);
  const sums: Frame = { kind: FrameKind.GradNorm, step: 0, microBatch: 0, dtype: 'float64', shape: [0], data: new Float64Array(0) };
  assert.match(stage0(frozen).admit(gradient, 'downstream') ?? 'admitted', /Gradient frame for step 0, micro-batch 0, which is never due: a frozen leading stage runs no backward/);
  assert.equal(stage0(frozen).admit(sums, 'downstream'), undefined, 'the empty squared sums of the handshake');
  assert.equal(stage0(unclipped).admit(gradient, 'downstream'), undefined, 'stage 0 trains: its gradients are due');
  assert.match(stage0(unclipped).admit(sums, 'downstream') ?? 'admitted', /never due: the job does not clip gradients and has no frozen leading stage/);
});
