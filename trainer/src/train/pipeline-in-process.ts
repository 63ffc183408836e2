// Runs every stage of a pipeline inside this one process, connected by real loopback WebSocket
// links. Stages interleave on the event loop, so this exercises the schedules, the executor, the
// recompute and the transport exactly as separate processes do, minus process start-up: it is what
// the exactness tests use.
import { randomBytes } from 'node:crypto';
import type { TrainingData } from '../data/load.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import { connectLink, listenLink, type Link } from '../transport/index.ts';
import type { WeightBytes } from './digest.ts';
import { startFromSource } from '../import/start-from-source.ts';
import type { WeightSource } from '../import/weight-source.ts';
import { createStageSession, maxBoundaryBytes, trainStage } from './stage-session.ts';

export interface InProcessResult {
  /** Every stage's weights in stage order (a tied copy included: see tiedCopyMismatches). */
  weights: WeightBytes[];
  /** Batch loss per step, from the last stage. */
  losses: number[];
  /** Validation loss by (0-based) step, for the steps that were evaluated. */
  valLosses: Map<number, number>;
  /** Frames that arrived at each stage, by FrameKind, counted as its links' screen sees them: asked for or not, admitted or refused (index: stage). */
  receivedFrames: Array<Map<number, number>>;
}

/** `spec` must have the data's vocabulary filled in (loadTrainingData returns such a spec); `source`: spec.model.from, opened. */
export async function trainPipelineInProcess(spec: PipelineJobSpec, data: TrainingData, partition: number[], steps?: number, source?: WeightSource): Promise<InProcessResult> {
  const links = await connectChain(partition.length, { token: randomBytes(16).toString('hex'), maxPayloadBytes: maxBoundaryBytes(spec, partition) });
  const receivedFrames = partition.map(() => new Map<number, number>());
  const sessions = partition.map((_, stage) => {
    const count = (link: Link | undefined) => link && countingArrivals(link, receivedFrames[stage]!);
    return createStageSession({ spec, stage, partition, data, upstream: count(links[stage - 1]?.[1]), downstream: count(links[stage]?.[0]) });
  });
  const losses: number[] = [];
  const valLosses = new Map<number, number>();
  const onLastStage = (result: { step: number; loss?: number; valLoss?: number }) => {
    losses.push(result.loss ?? NaN);
    if (result.valLoss !== undefined) valLosses.set(result.step, result.valLoss);
  };
  try {
    if (source) for (const { runtime } of sessions) await startFromSource({ spec, weights: runtime.model.weights, optimizer: runtime.optimizer }, source);
    await Promise.all(
      sessions.map((session, stage) => trainStage(session, (result) => stage === partition.length - 1 && onLastStage(result), 0, steps ?? session.plan.totalSteps)),
    );
    return { weights: sessions.flatMap((s) => s.weights()), losses, valLosses, receivedFrames };
  } finally {
    sessions.forEach((s) => s.dispose());
    await Promise.all(links.flat().map((link) => link.close()));
  }
}

/**
 * The link, counting every frame that arrives on it by kind in `counts`. Counted in the screen,
 * which the link calls once per arriving frame (those already waiting when it is installed too),
 * so a frame the stage never asks for is counted as well: a frozen stage asks for no gradient.
 */
function countingArrivals(link: Link, counts: Map<number, number>): Link {
  return {
    send: (frame) => link.send(frame),
    receive: (kind, step, microBatch, timeoutMs) => link.receive(kind, step, microBatch, timeoutMs),
    screen: (check) =>
      link.screen((frame) => {
        counts.set(frame.kind, (counts.get(frame.kind) ?? 0) + 1);
        return check(frame);
      }),
    closed: link.closed,
    close: (reason) => link.close(reason),
    get stats() {
      return link.stats;
    },
  };
}

/** links[i] = [stage i's end, stage i+1's end] of boundary i. */
async function connectChain(stages: number, options: { token: string; maxPayloadBytes: number }): Promise<Array<[Link, Link]>> {
  const pairs: Array<[Link, Link]> = [];
  for (let boundary = 0; boundary < stages - 1; boundary++) {
    const server = await listenLink({ ...options, host: '127.0.0.1', port: 0 });
    const [downstreamEnd, upstreamEnd] = await Promise.all([
      connectLink({ ...options, url: `ws://127.0.0.1:${server.port}` }),
      server.accept(),
    ]);
    await server.close();
    pairs.push([downstreamEnd, upstreamEnd]);
  }
  return pairs;
}
