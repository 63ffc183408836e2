// One pipeline stage process: load the job, connect to the neighbours, train, report.
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointMismatchError, type WriteResult } from '../checkpoint/index.ts';
import { DataError } from '../data/dataset.ts';
import { loadJobData } from '../data/load.ts';
import { createCheckpointMetrics, createStageMetrics, startMetricsServer } from '../metrics/index.ts';
import { BackendUnavailableError, describeBackend, initBackend } from '../tf/backend.ts';
import { createStageSession, maxBoundaryBytes, trainStage } from '../train/stage-session.ts';
import { connectLink, LinkClosedError, listenLink, type Link } from '../transport/index.ts';
import { CONFIG_ENV, StageExit, TOKEN_ENV, type StageConfig, type StageToSupervisor, type SupervisorToStage } from './protocol.ts';
import { createStageCheckpointing } from './checkpointing.ts';
import { createLogger, type Logger } from './logger.ts';
import { stageTitle } from './process-title.ts';
import { watchPeer } from './peer-watchdog.ts';
import { agreeOnResumeStep } from './resume-agreement.ts';

const LINK_TIMEOUT_MS = 60_000;
/** Neighbour heartbeats: one per second; a neighbour silent for PEER_TIMEOUT_MS is lost. */
const HEARTBEAT_INTERVAL_MS = 1_000;
const PEER_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  const config = readConfig();
  const token = process.env[TOKEN_ENV];
  if (!token) throw new DataError(`${TOKEN_ENV} is not set: stages refuse to run without the job's token`);
  const { job, stage, partition } = config;
  const log = createLogger({ job: job.metadata.name, stage });
  const metrics = createStageMetrics({ job: job.metadata.name, stage });
  const checkpointMetrics = createCheckpointMetrics(metrics.registry, { job: job.metadata.name, stage }, job.spec.checkpoint?.everySteps);
  metrics.setPhase('starting');
  startSupervisorHeartbeat(stage);
  const isLast = stage === partition.length - 1;

  const backend = await initBackend(job.spec.training.backend);
  // Info, not warn: under `pipetrain train` the supervisor already says it once for every stage.
  log.info(describeBackend(backend), { backend: backend.choice, skipped: backend.skipped.map((s) => s.choice) });
  const data = await loadJobData(job.spec, config.baseDir);
  // A standby stage (started ahead of a failure by the local supervisor) waits here, booted.
  // The process title tells `ps` (and the tests) which stage a process is, and whether it is active.
  if (config.waitForStart) {
    process.title = stageTitle(stage, partition.length, job.metadata.name, true);
    void report({ type: 'ready', stage });
    await supervisorMessage('start');
  }
  process.title = stageTitle(stage, partition.length, job.metadata.name);
  const linkOptions = { token, maxPayloadBytes: maxBoundaryBytes(job.spec, partition) };
  const server = stage > 0 ? await listenLink({ ...linkOptions, ...metrics.linkEvents('upstream'), host: config.listenHost, port: config.listenPort, log: log.link }) : undefined;
  // /status also carries the newest checkpoint this stage saw committed (the operator shows it).
  let lastCommitted: { checkpointStep: number; checkpointAt: string } | undefined;
  const onCheckpointWritten = (result: WriteResult) => {
    checkpointMetrics.observeWrite(result);
    if (result.ok && result.info.committed) lastCommitted = { checkpointStep: result.info.step, checkpointAt: new Date().toISOString() };
  };
  const metricsServer = await startMetricsServer({ host: config.metricsHost, port: config.metricsPort, registry: metrics.registry, status: () => ({ ...metrics.status(), ...lastCommitted }) });
  void report({ type: 'listening', stage, linkPort: server?.port ?? 0, metricsPort: metricsServer.port });
  log.info('Started stage', { backend: backend.choice, layers: partition[stage], linkPort: server?.port, metricsPort: metricsServer.port });

  metrics.setPhase('connecting');
  const [downstream, upstream] = await Promise.all([
    isLast ? undefined : connectDownstream(config, { ...linkOptions, ...metrics.linkEvents('downstream'), log: log.link }),
    server?.accept(LINK_TIMEOUT_MS),
  ]);
  await server?.close();
  for (const [peer, link] of [['upstream', upstream], ['downstream', downstream]] as const) {
    if (link) watchPeer(link, { intervalMs: HEARTBEAT_INTERVAL_MS, timeoutMs: PEER_TIMEOUT_MS, onSilent: (ms) => peerLost(log, stage, `${peer} stage silent for ${Math.round(ms / 1000)} s`) });
  }

  const session = createStageSession({ spec: job.spec, stage, partition, data, upstream, downstream });
  const checkpointDir = resolveCheckpointDir(config);
  const checkpoints = checkpointDir
    ? createStageCheckpointing({ dir: checkpointDir, job, stage, partition, session, backend: backend.choice, log: log.link, onWritten: onCheckpointWritten })
    : undefined;
  const startStep = (await checkpoints?.resume()) ?? 0;
  await agreeOnResumeStep(startStep, upstream, downstream, LINK_TIMEOUT_MS);

  metrics.setTotalSteps(session.plan.totalSteps);
  metrics.setPhase('training');
  void report({ type: 'training', stage, totalSteps: session.plan.totalSteps, startStep });
  await trainStage(session, (result) => {
    metrics.observeStep({ ...result, samples: session.plan.batchSize });
    const { gradientNorm: _norm, ...stepFields } = result;
    void report({ type: 'step', stage, ...stepFields });
    checkpoints?.afterStep(result.step + 1);
  }, startStep);
  await checkpoints?.finish(session.plan.totalSteps);
  metrics.setPhase('finished');
  await report({ type: 'finished', stage, weights: session.weights() });
  log.info('Finished training', { steps: session.plan.totalSteps, tensors: tf.memory().numTensors });
  await Promise.all([upstream?.close('finished'), downstream?.close('finished')]);
  await metricsServer.close();
}

/** spec.checkpoint.path, against the job file's folder (in a pod: `/`, where the claim is mounted at it). */
function resolveCheckpointDir(config: StageConfig): string | undefined {
  const dir = config.job.spec.checkpoint?.path;
  return dir ? resolve(config.baseDir, dir) : undefined;
}

/** Lets the supervisor tell a frozen stage from a busy one: a tick every second from the event loop. */
function startSupervisorHeartbeat(stage: number): void {
  if (!process.send) return;
  setInterval(() => void report({ type: 'heartbeat', stage }), HEARTBEAT_INTERVAL_MS).unref();
}

function peerLost(log: Logger, stage: number, reason: string): void {
  log.error('Lost a neighbour stage', { reason });
  void report({ type: 'failed', stage, message: `peer lost: ${reason}`, exitCode: StageExit.PeerLost }).then(() => process.exit(StageExit.PeerLost));
}

function readConfig(): StageConfig {
  const raw = process.env[CONFIG_ENV];
  if (!raw) throw new DataError(`${CONFIG_ENV} is not set (the stage configuration, JSON)`);
  return JSON.parse(raw) as StageConfig;
}

/** The downstream address comes from the configuration, or from the supervisor once that stage listens. */
async function connectDownstream(config: StageConfig, options: Parameters<typeof connectLink>[0] extends infer O ? Omit<O & object, 'url'> : never): Promise<Link> {
  const url = config.downstreamUrl ?? (await supervisorMessage('connect')).url;
  return connectLink({ ...options, url, connectTimeoutMs: LINK_TIMEOUT_MS });
}

/**
 * Messages from the supervisor, kept from the moment the process starts: one may arrive before
 * the stage gets to wait for it (a `start` sent right after fork, a `connect` sent as soon as the
 * downstream stage listens), and an IPC message without a listener would be lost.
 */
const supervisorMessages = new Map<SupervisorToStage['type'], SupervisorToStage>();
const supervisorWaiters = new Map<SupervisorToStage['type'], (message: SupervisorToStage) => void>();

function receiveSupervisorMessage(message: SupervisorToStage): void {
  if (message.type === 'shutdown') process.exit(StageExit.Terminated);
  const waiter = supervisorWaiters.get(message.type);
  if (waiter) waiter(message);
  else supervisorMessages.set(message.type, message);
}

function supervisorMessage<T extends SupervisorToStage['type']>(type: T): Promise<Extract<SupervisorToStage, { type: T }>> {
  const early = supervisorMessages.get(type);
  if (early) return Promise.resolve(early as Extract<SupervisorToStage, { type: T }>);
  return new Promise((resolve) => supervisorWaiters.set(type, resolve as (message: SupervisorToStage) => void));
}

/** Resolves once the message is handed to the IPC channel, so exiting right after loses nothing. */
function report(message: StageToSupervisor): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

function exitCodeFor(error: unknown): number {
  // A backend missing from this machine or image does not come back when the stage restarts.
  if (error instanceof DataError || error instanceof RangeError || error instanceof CheckpointMismatchError || error instanceof BackendUnavailableError) return StageExit.InvalidJob;
  if (error instanceof LinkClosedError) return StageExit.PeerLost;
  return StageExit.Failed;
}

function fail(log: Logger, error: unknown): void {
  const exitCode = exitCodeFor(error);
  const message = (error as Error).message ?? String(error);
  log.error('Stage failed', { error: message, exitCode });
  const stage = Number((JSON.parse(process.env[CONFIG_ENV] ?? '{}') as { stage?: number }).stage ?? -1);
  void report({ type: 'failed', stage, message, exitCode }).then(() => process.exit(exitCode));
}

/**
 * Runs this process as one pipeline stage and exits with a StageExit code. Configuration comes
 * from the environment (CONFIG_ENV, TOKEN_ENV): the local runner and the operator both set it.
 */
export function runStageProcess(): void {
  const bootLog = createLogger({ job: 'unknown', stage: -1 });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(StageExit.Terminated));
  process.on('message', receiveSupervisorMessage);
  main().then(
    () => process.exit(StageExit.Succeeded),
    (error: unknown) => fail(bootLog, error),
  );
}
