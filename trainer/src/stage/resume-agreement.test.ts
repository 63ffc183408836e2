// The resume agreement over a real link: neighbours that resume from the same step but would start
// from different spec.model.from sources (an unpinned checkpoint source whose job committed a newer
// step while the stages opened it) refuse to train, as they do for different steps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectLink, listenLink, type Link } from '../transport/index.ts';
import { agreeOnResumeStep, decodeResumePoint, encodeResumePoint, ResumeMismatchError, type ResumePoint } from './resume-agreement.ts';

async function linkPair(): Promise<[Link, Link]> {
  const options = { token: 'secret-token-for-tests', maxPayloadBytes: 1024 };
  const server = await listenLink({ ...options, port: 0 });
  const [a, b] = await Promise.all([connectLink({ ...options, url: `ws://127.0.0.1:${server.port}` }), server.accept()]);
  await server.close();
  return [a, b];
}

/** Stage 0 (sending downstream on `a`) and stage 1 (receiving upstream on `b`) agree, or stage 1 throws. */
async function agree(first: ResumePoint, second: ResumePoint): Promise<void> {
  const [a, b] = await linkPair();
  try {
    const frames = { receive: (_side: string, kind: number, step: number, microBatch: number, timeoutMs?: number) => b.receive(kind, step, microBatch, timeoutMs) };
    await Promise.all([agreeOnResumeStep(first, { downstream: a, frames }, 5_000), agreeOnResumeStep(second, { upstream: b, frames }, 5_000)]);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

const SOURCE_A = 'ffffffff' + '0123456789abcdef'.repeat(3) + '00000001';
const SOURCE_B = SOURCE_A.slice(0, 63) + '2';

test('a source checksum survives the frame bit for bit', () => {
  assert.deepEqual(decodeResumePoint(encodeResumePoint({ step: 7, sourceChecksum: SOURCE_A })), { step: 7, sourceChecksum: SOURCE_A });
  assert.deepEqual(decodeResumePoint(encodeResumePoint({ step: 0 })), { step: 0 });
});

test('neighbours agree on the same step and source; another source or step is refused', async () => {
  await agree({ step: 0, sourceChecksum: SOURCE_A }, { step: 0, sourceChecksum: SOURCE_A });
  await agree({ step: 4 }, { step: 4 });
  await assert.rejects(agree({ step: 0, sourceChecksum: SOURCE_A }, { step: 0, sourceChecksum: SOURCE_B }), (error: Error) => {
    assert.ok(error instanceof ResumeMismatchError);
    assert.match(error.message, new RegExp(`previous stage starts from spec\\.model\\.from with sha256 ${SOURCE_A} but this stage with ${SOURCE_B} .*restarting the pipeline`));
    return true;
  });
  await assert.rejects(agree({ step: 0, sourceChecksum: SOURCE_A }, { step: 0 }), ResumeMismatchError);
  await assert.rejects(agree({ step: 2 }, { step: 3 }), /previous stage resumes from step 2 but this stage from step 3/);
});
