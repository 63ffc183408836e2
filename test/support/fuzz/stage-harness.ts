// Real stage processes for the fuzz tests: two stages of a tiny job forked as `pipetrain train`
// forks them, with this test as their supervisor, and a relay that stands between stage 0 and
// stage 1 as stage 0's link (it holds the token) and can swap one message for garbage.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { PipelineJobSpec } from '../../../trainer/src/api/schema.ts';
import type { StageConfig } from '../../../trainer/src/contract/index.ts';
import { startStage, type StageProcess } from '../../../trainer/src/runner/fork-stages.ts';
import type { StageToSupervisor } from '../../../trainer/src/stage/protocol.ts';
import { weightsDigest, type WeightBytes } from '../../../trainer/src/train/digest.ts';

export const STAGE_TOKEN = 'fuzz-stage-token-0123456789';
const REPO = new URL('../../../', import.meta.url).pathname;

export interface TwoStages {
  stages: StageProcess[];
  /** Stage 1's link port, once it listens. */
  linkPort: Promise<number>;
  /** Tells stage 0 where its downstream neighbour is (the real port, or a relay). */
  connectStage0(url: string): void;
  /** Exit codes (null when killed) and each stage's output lines. */
  exits: Promise<Array<number | null>>;
  logs: string[][];
  /** Digest of the weights both stages reported when they finished (undefined if one did not). */
  digest(): string | undefined;
  /** Steps stage 1 reported done. */
  steps: () => number;
  stop(): Promise<void>;
}

/** `extra(stage)` adds to a stage's configuration (a short receiveTimeoutMs, say). */
export function startTwoStages(spec: PipelineJobSpec, partition: number[], extra: (stage: number) => Partial<StageConfig> = () => ({})): TwoStages {
  const weights = new Map<number, WeightBytes[]>();
  const logs: string[][] = [[], []];
  let steps = 0;
  let onListening!: (port: number) => void;
  const linkPort = new Promise<number>((resolve) => (onListening = resolve));
  const config = (stage: number): StageConfig => ({
    job: { apiVersion: 'pipetrain.io/v1alpha1', kind: 'PipelineJob', metadata: { name: 'fuzz' }, spec } as StageConfig['job'],
    stage, partition, baseDir: REPO, listenHost: '127.0.0.1', listenPort: 0, metricsHost: '127.0.0.1', metricsPort: 0, ...extra(stage),
  });
  const onMessage = (message: StageToSupervisor) => {
    if (message.type === 'listening' && message.stage === 1) onListening(message.linkPort);
    if (message.type === 'step' && message.stage === 1) steps++;
    if (message.type === 'finished') weights.set(message.stage, message.weights);
  };
  const stages = [0, 1].map((stage) => startStage(config(stage), STAGE_TOKEN, { onMessage, onLogLine: (s, line) => logs[s]!.push(line) }));
  return {
    stages,
    linkPort,
    connectStage0: (url) => stages[0]!.send({ type: 'connect', url }),
    exits: Promise.all(stages.map(async (s) => (await s.exited).code)),
    logs,
    digest: () => (weights.size === 2 ? weightsDigest([...weights.get(0)!, ...weights.get(1)!]) : undefined),
    steps: () => steps,
    stop: async () => {
      await Promise.all(stages.map((s) => s.stop()));
    },
  };
}

export interface Relay {
  url: string;
  /** Messages relayed from stage 0 to stage 1 so far. */
  forwarded(): number;
  /** True once the picked message was swapped. */
  swapped(): boolean;
  close(): Promise<void>;
}

/** Which message to swap: its number (from 1), or the first whose bytes satisfy the predicate. */
export type SwapWhich = number | ((original: Buffer) => boolean);

/**
 * Relays stage 0's link to stage 1 message by message; the message `which` picks from stage 0 is
 * replaced by what `swap` makes of it (undefined: dropped). When either side closes, the other is
 * closed with the same code, as a dropped connection would end both.
 */
export async function startRelay(targetPort: number, which: SwapWhich, swap: (original: Buffer) => { data: Buffer; binary: boolean } | undefined): Promise<Relay> {
  const server = new WebSocketServer({
    host: '127.0.0.1', port: 0, perMessageDeflate: false,
    verifyClient: ({ req }, done) => done(req.headers.authorization === `Bearer ${STAGE_TOKEN}`, 401),
  });
  await once(server, 'listening');
  let forwarded = 0;
  let swapped = false;
  const picks = (data: Buffer) => !swapped && (typeof which === 'number' ? forwarded === which : which(data));
  server.on('connection', (fromStage0) => {
    const toStage1 = new WebSocket(`ws://127.0.0.1:${targetPort}/`, { headers: { authorization: `Bearer ${STAGE_TOKEN}` }, perMessageDeflate: false });
    const early: Array<{ data: Buffer; binary: boolean }> = [];
    const forward = (data: Buffer, binary: boolean) => {
      forwarded++;
      const pick = picks(data);
      swapped ||= pick;
      const message = pick ? swap(data) : { data, binary };
      if (message) toStage1.send(message.data, { binary: message.binary });
    };
    fromStage0.on('message', (data: Buffer, binary) => (toStage1.readyState === WebSocket.OPEN ? forward(data, binary) : early.push({ data, binary })));
    toStage1.on('open', () => early.splice(0).forEach((m) => forward(m.data, m.binary)));
    toStage1.on('message', (data: Buffer, binary) => fromStage0.send(data, { binary }));
    const closeBoth = (code: number) => {
      const sendable = code >= 1000 && code !== 1005 && code !== 1006 ? code : 1001;
      for (const ws of [fromStage0, toStage1]) if (ws.readyState === WebSocket.OPEN) ws.close(sendable);
    };
    toStage1.on('close', closeBoth);
    fromStage0.on('close', closeBoth);
    toStage1.on('error', () => fromStage0.terminate());
    fromStage0.on('error', () => toStage1.terminate());
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    forwarded: () => forwarded,
    swapped: () => swapped,
    close: async () => {
      for (const client of server.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
