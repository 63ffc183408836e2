// Real stage processes under hostile frames. A stranger (no token, or a wrong one) hammering the
// link port changes nothing: the stages train to the single-process digest. Garbage from the real
// neighbour (the one holding the token) ends both stages cleanly with exit code 3 (PeerLost):
// undecodable bytes, frames of the wrong shape or dtype, garbled evaluation frames and tied-gradient
// halves, frames under keys never due, and a due frame sent under another key (the receive timeout).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadJobData } from '../../trainer/src/data/load.ts';
import { initBackend } from '../../trainer/src/tf/backend.ts';
import { StageExit, type StageConfig } from '../../trainer/src/contract/index.ts';
import { weightsDigest } from '../../trainer/src/train/digest.ts';
import { trainSingleProcess } from '../../trainer/src/train/reference.ts';
import { decodeFrame, encodeFrame } from '../../trainer/src/transport/frame.ts';
import { FrameKind } from '../../trainer/src/transport/kinds.ts';
import { referenceOutcome } from '../support/fuzz/frame-cases.ts';
import { createRng, fuzzSeed, replayHint, type Rng } from '../support/fuzz/rng.ts';
import { startRelay, startTwoStages, STAGE_TOKEN } from '../support/fuzz/stage-harness.ts';
import { clientFrame, rawUpgrade } from '../support/fuzz/ws-raw.ts';
import { tinyMlpJob } from '../support/tiny-jobs.ts';
import { tinyGptJob, tinyTokenFolder } from '../support/gpt-jobs.ts';
import { EVALUATION_MUTATIONS, strangerFrame, TIED_MUTATIONS, WRONG_KEY_MUTATIONS, type ProtocolMutation } from '../support/fuzz/protocol-cases.ts';
import type { Frame } from '../../trainer/src/transport/frame.ts';

const base = tinyMlpJob();
const spec = { ...base, training: { ...base.training, steps: 4 } };
const PARTITION = [3, 3];
const REPO = new URL('../../', import.meta.url).pathname;
const seed = fuzzSeed();
const hint = replayHint(seed, 'node test/run-tests.js test/fuzz/stage-fuzz');

/** One stranger: connects without the right token, then sends garbage. Resolves with the HTTP status or the error code. */
async function stranger(port: number, rng: Rng): Promise<string> {
  const authorization = rng.pick([undefined, 'Bearer wrong-token', `Bearer ${STAGE_TOKEN.slice(0, -1)}`, `Basic ${STAGE_TOKEN}`]);
  try {
    const raw = await rawUpgrade(port, authorization);
    // Random bytes, or the frames the real neighbour sends (evaluation, tied halves, wrong keys), valid or garbled.
    const payload = rng.chance(0.5) ? rng.bytes(rng.int(128)) : strangerFrame(rng);
    if (!raw.socket.destroyed) raw.socket.write(clientFrame({ opcode: 0x2, payload }), () => undefined);
    await raw.closed;
    return String(raw.status);
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  }
}

void test('strangers hammering the link port before and during training change nothing: exit 0, the single-process digest', async (t) => {
  t.diagnostic(hint);
  const rng = createRng(seed);
  await initBackend('cpu');
  const reference = weightsDigest((await trainSingleProcess(spec, await loadJobData(spec, REPO))).weights);
  const pair = startTwoStages(spec, PARTITION);
  try {
    const port = await pair.linkPort;
    let training = true;
    const answers: string[] = [];
    const hammer = async (until: () => boolean) => {
      while (until()) answers.push(await stranger(port, rng.fork(answers.length)));
    };
    // Before the real neighbour connects: 4 strangers at once for 600 ms.
    const before = Date.now();
    await Promise.all(Array.from({ length: 4 }, () => hammer(() => Date.now() - before < 600)));
    const beforeCount = answers.length;
    pair.connectStage0(`ws://127.0.0.1:${port}/`);
    const during = Promise.all(Array.from({ length: 2 }, () => hammer(() => training)));
    const exits = await pair.exits;
    training = false;
    await during;
    assert.deepEqual(exits, [StageExit.Succeeded, StageExit.Succeeded], `${hint}\n${pair.logs.flat().slice(-20).join('\n')}`);
    assert.equal(pair.digest(), reference, hint);
    assert.ok(beforeCount >= 20, `${beforeCount} strangers before training (${hint})`);
    // A stranger is refused with 401 while the port listens, and finds it closed once the neighbour is in
    // (reset when the port closed mid-handshake); never 101.
    const unexpected = answers.filter((a) => !['401', 'ECONNREFUSED', 'ECONNRESET'].includes(a));
    assert.deepEqual(unexpected, [], hint);
    t.diagnostic(`strangers: ${beforeCount} before training, ${answers.length - beforeCount} during (${answers.filter((a) => a === 'ECONNREFUSED').length} refused at TCP)`);
  } finally {
    await pair.stop();
  }
});

/** Garbage the real neighbour might send: a frame that fails to decode, a text message, or too big. */
function garbage(rng: Rng): { label: string; data: Buffer; binary: boolean } {
  const limits = { maxPayloadBytes: 160 * 4, maxMessageBytes: 160 * 4 + 48 };
  for (;;) {
    const kind = rng.int(4);
    if (kind === 0) return { label: 'text', data: Buffer.from('{"step":0}'), binary: false };
    if (kind === 1) return { label: 'too-big', data: Buffer.alloc(limits.maxMessageBytes + 1 + rng.int(1000)), binary: true };
    const bytes = kind === 2 ? rng.bytes(rng.int(64)) : encodeFrame({ kind: FrameKind.Activation, step: 0, microBatch: 0, dtype: 'float32', shape: [10, 16], data: new Float32Array(160) });
    if (kind === 3) bytes[rng.int(16)]! ^= 1 << rng.int(8);
    if (!('deliver' in referenceOutcome(Buffer.from(bytes), limits))) return { label: kind === 2 ? 'random bytes' : 'header bit flip', data: Buffer.from(bytes), binary: true };
  }
}

for (let run = 0; run < 3; run++) {
  void test(`garbage from the real neighbour (run ${run}): both stages exit 3, the reason logged, no stack trace`, async (t) => {
    t.diagnostic(hint);
    const rng = createRng(seed).fork(1000 + run);
    const bad = garbage(rng);
    // Stage 0 sends 1 Control, then per step 2 activations and 1 gradient norm: 13 messages, heartbeats aside.
    const swapAt = rng.between(1, 12);
    t.diagnostic(`message ${swapAt} from stage 0 replaced by ${bad.label}`);
    const pair = startTwoStages(spec, PARTITION);
    const relay = await startRelay(await pair.linkPort, swapAt, () => bad);
    try {
      pair.connectStage0(relay.url);
      const exits = await pair.exits;
      const logs = pair.logs.map((lines) => lines.join('\n'));
      assert.ok(relay.forwarded() >= swapAt, `the garbage was sent (${hint})`);
      assert.deepEqual(exits, [StageExit.PeerLost, StageExit.PeerLost], `${hint}\n${logs.join('\n---\n')}`);
      assert.match(logs[1]!, /"(Closed link after a protocol violation|Link failed)".*"code":10(0[37]|09)/, hint);
      for (const log of logs) assert.doesNotMatch(log, /^\s+at /m, `no stack trace (${hint})`);
      assert.equal(pair.digest(), undefined, 'no weights were reported as finished');
    } finally {
      await relay.close();
      await pair.stop();
    }
  });
}

void test('decodable frames of the wrong shape or dtype from the real neighbour end both stages with exit 3', async (t) => {
  t.diagnostic(hint);
  for (const change of ['shape', 'dtype'] as const) {
    // Message 2 is the first activation (message 1 is the resume step).
    const pair = startTwoStages(spec, PARTITION);
    const relay = await startRelay(await pair.linkPort, 2, (original) => {
      const frame = decodeFrame(original);
      assert.equal(frame.kind, FrameKind.Activation, 'message 2 is an activation');
      const other = change === 'shape'
        ? { ...frame, shape: [1, frame.shape[1]!], data: frame.data.subarray(0, frame.shape[1]!) }
        : { ...frame, dtype: 'int32' as const, data: Int32Array.from(frame.data) }; // same size: it passes maxPayload
      return { data: encodeFrame(other), binary: true };
    });
    try {
      pair.connectStage0(relay.url);
      const exits = await pair.exits;
      const logs = pair.logs.map((lines) => lines.join('\n'));
      assert.deepEqual(exits, [StageExit.PeerLost, StageExit.PeerLost], `${change}: ${hint}\n${logs.join('\n---\n')}`);
      assert.equal(pair.digest(), undefined, change);
      assert.match(logs[1]!, /the upstream stage \(stage 0\) sent a Activation frame for step 0, micro-batch 0 as/, change);
    } finally {
      await relay.close();
      await pair.stop();
    }
  }
});

// A tied GPT on two stages [3, 4]: stage 0 sends activations, tied-gradient halves toward the
// copy on stage 1, gradient norms, and after steps 1 and 2 evaluations of 5 samples in micro-batches
// of 2, 2 and 1 rows.
const GPT_PARTITION = [3, 4];
const gptSpec = async () => {
  const job = tinyGptJob(await tinyTokenFolder());
  return { ...job, training: { ...job.training, steps: 3, evalEverySteps: 2, evalSamples: 5 } };
};

/** The frame of a relayed message, or undefined when it does not decode (the relay passes those on). */
function frameOf(bytes: Buffer): Frame | undefined {
  try {
    return decodeFrame(bytes);
  } catch {
    return undefined;
  }
}

/** Runs the pair with stage 0's first frame that `pick` accepts replaced by `swap` (undefined: dropped); returns exits and logs. */
async function gptPairWithSwap(pick: (frame: Frame) => boolean, swap: (frame: Frame) => Frame | undefined, stage1Extra: Partial<StageConfig> = {}) {
  const spec = await gptSpec();
  const pair = startTwoStages(spec, GPT_PARTITION, (stage) => (stage === 1 ? stage1Extra : {}));
  const relay = await startRelay(await pair.linkPort, (bytes) => {
    const frame = frameOf(bytes);
    return frame !== undefined && pick(frame);
  }, (bytes) => {
    const swapped = swap(decodeFrame(bytes));
    return swapped && { data: Buffer.from(encodeFrame(swapped)), binary: true };
  });
  try {
    pair.connectStage0(relay.url);
    const exits = await pair.exits;
    return { exits, logs: pair.logs.map((lines) => lines.join('\n')), swapped: relay.swapped(), digest: pair.digest() };
  } finally {
    await relay.close();
    await pair.stop();
  }
}

const protocolCases: Array<{ what: string; mutations: ProtocolMutation[]; pick: (frame: Frame) => boolean }> = [
  { what: 'evaluation frame (the short last micro-batch)', mutations: EVALUATION_MUTATIONS, pick: (f) => f.kind === FrameKind.Evaluation && f.microBatch === 2 },
  { what: 'tied-gradient half', mutations: TIED_MUTATIONS, pick: (f) => f.kind === FrameKind.TiedGradient },
  { what: 'activation under a key never due', mutations: WRONG_KEY_MUTATIONS, pick: (f) => f.kind === FrameKind.Activation && f.step === 1 },
];

for (const [index, { what, mutations, pick }] of protocolCases.entries()) {
  void test(`a garbled ${what} from the real neighbour: refused on arrival (1008), both stages exit 3, the reason logged`, async (t) => {
    t.diagnostic(hint);
    const mutation = createRng(seed).fork(2000 + index).pick(mutations);
    t.diagnostic(`mutation ${mutation.label}`);
    const run = await gptPairWithSwap(pick, (frame) => mutation.mutate(frame, 3));
    const context = `${mutation.label} (${hint})\n${run.logs.join('\n---\n')}`;
    assert.ok(run.swapped, `the frame was swapped: ${context}`);
    assert.deepEqual(run.exits, [StageExit.PeerLost, StageExit.PeerLost], context);
    assert.match(run.logs[1]!, /"Closed link after a protocol violation".*"code":1008.*the upstream stage \(stage 0\) sent a (Evaluation|TiedGradient|Activation|Gradient|Heartbeat) frame for step \d+, micro-batch \d+(, which is (never|not) due| as )/, context);
    for (const log of run.logs) assert.doesNotMatch(log, /^\s+at /m, `no stack trace: ${context}`);
    assert.equal(run.digest, undefined, 'no weights were reported as finished');
  });
}

void test('a due activation sent under another key (a legitimately early one): the receive times out naming the frame, both stages exit 3', async (t) => {
  t.diagnostic(hint);
  // (Activation, step 1, micro-batch 0) goes out as micro-batch 1: admitted (step 1 may be early), and then twice.
  const run = await gptPairWithSwap((f) => f.kind === FrameKind.Activation && f.step === 1 && f.microBatch === 0, (frame) => ({ ...frame, microBatch: 1 }), { receiveTimeoutMs: 8000 });
  const context = `${hint}\n${run.logs.join('\n---\n')}`;
  assert.ok(run.swapped, context);
  assert.deepEqual(run.exits, [StageExit.PeerLost, StageExit.PeerLost], context);
  assert.match(run.logs[1]!, /"Stage failed".*no Activation frame for step 1, micro-batch 0 came from the upstream stage \(stage 0\) within 8 s \(receiveTimeoutMs\).*"exitCode":3/, context);
  for (const log of run.logs) assert.doesNotMatch(log, /^\s+at /m, `no stack trace: ${context}`);
});
