// One pipeline stage process, as a checklist: boot, connect, resume, train, finish. The
// configuration is read once, before anything else; every later failure is logged and reported
// with the job and stage it belongs to.
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointMismatchError, latestCommit, type WriteResult } from '../checkpoint/index.ts';
import { CONFIG_ENV, PEER_TIMEOUT_MS, StageExit, TOKEN_ENV, type StageConfig, type StageStatus } from '../contract/index.ts';
import type { PipelineJobSpec } from '../api/schema.ts';
import { DataError } from '../data/dataset.ts';
import { dataTokenizer, isTokenData, loadTrainingData, type TrainingData } from '../data/load.ts';
import { isSftData } from '../data/sft-data.ts';
import { createCheckpointMetrics, createStageMetrics, startMetricsServer, type MetricsServer, type StageMetrics } from '../metrics/index.ts';
import { BackendUnavailableError, describeBackend, initBackend } from '../tf/backend.ts';
import { PeerFrameError } from '../train/expected-frames.ts';
import { createStageSession, maxBoundaryBytes, trainStage, type StageSession } from '../train/stage-session.ts';
import { connectLink, LinkClosedError, listenLink, type Link, type LinkServer } from '../transport/index.ts';
import { describeModel } from '../checkpoint/model-description.ts';
import { checkSameTokenizer } from '../data/sft-tokenizer.ts';
import { openWeightSource } from '../import/open-source.ts';
import { startFromSource } from '../import/start-from-source.ts';
import { sourceIdentity, type WeightSource, type WeightSourceIdentity } from '../import/weight-source.ts';
import { createStageCheckpointing, recordedSourceIdentity, sftDataIdentity, tokenDataIdentity, type StageCheckpointing, type TokenDataIdentity } from './checkpointing.ts';
import { watchCommits, type CommitWatch } from './committed-checkpoint.ts';
import { readStepsDone, recomputedSteps, recordStepsDone } from './steps-done.ts';
import { createLogger, type Logger } from './logger.ts';
import { watchPeer } from './peer-watchdog.ts';
import { stageTitle } from './process-title.ts';
import { agreeOnResumeStep } from './resume-agreement.ts';
import { listenToSupervisor, report, startSupervisorHeartbeat, supervisorMessage } from './supervisor-channel.ts';

const LINK_TIMEOUT_MS = 60_000;
/** Neighbour heartbeats: one per second; a neighbour silent for PEER_TIMEOUT_MS (the contract) is lost. */
const HEARTBEAT_INTERVAL_MS = 1_000;
/** How often a stage looks for a newer commit record than it knows (the operator polls /status every 2 s). */
const COMMIT_WATCH_INTERVAL_MS = 1_000;

/** What a booted stage holds: its configuration, token, logs, metrics, backend and data. */
interface BootedStage {
  config: StageConfig;
  token: string;
  log: Logger;
  metrics: StageMetrics;
  metricsServer: MetricsServer;
  /** Where the upstream neighbour connects (stages > 0). */
  server?: LinkServer;
  backend: string;
  /** The job's spec with the data's vocabulary filled in: what this stage builds and trains. */
  spec: PipelineJobSpec;
  data: TrainingData;
  /** Called for every checkpoint write (metrics, /status). */
  onCheckpointWritten(result: WriteResult): void;
  /** The newest commit on the checkpoint volume (checkpointing on). */
  commits?: CommitWatch;
  /** What resume() found, reported on GET /status. */
  resumed: Pick<StageStatus, 'recomputedSteps' | 'resumedFrom' | 'resumedCheckpointAt'> & { step?: number; loss?: number };
  /** GET /status requests served so far (the final one is waited for, see StageConfig.finalStatusWaitMs). */
  statusReads(): number;
}

interface Neighbours {
  upstream?: Link;
  downstream?: Link;
}

interface Resumed {
  session: StageSession;
  checkpoints?: StageCheckpointing;
  startStep: number;
  /** Where the checkpoints and this stage's steps-done count live (checkpointing on). */
  checkpointDir?: string;
}

async function runStage(config: StageConfig, token: string, log: Logger): Promise<void> {
  const stage = await boot(config, token, log);
  const neighbours = await connect(stage);
  const resumed = await resume(stage, neighbours);
  await train(stage, resumed);
  await finish(stage, neighbours, resumed);
}

/** Metrics, backend and data; a hot standby waits here for `start`; then the link and metrics servers. */
async function boot(config: StageConfig, token: string, log: Logger): Promise<BootedStage> {
  const { job, stage, partition } = config;
  const labels = { job: job.metadata.name, stage };
  const metrics = createStageMetrics(labels);
  const checkpointMetrics = createCheckpointMetrics(metrics.registry, labels, job.spec.checkpoint?.everySteps);
  metrics.setPhase('starting');
  startSupervisorHeartbeat(stage, HEARTBEAT_INTERVAL_MS);
  const backend = await initBackend(job.spec.training.backend);
  // Info, not warn: under `pipetrain train` the supervisor already says it once for every stage.
  log.info(describeBackend(backend), { backend: backend.choice, skipped: backend.skipped.map((s) => s.choice) });
  const { spec, data } = await loadTrainingData(job.spec, config.baseDir);
  // The process title tells `ps` (and the tests) which stage a process is, and whether it is active.
  if (config.waitForStart) {
    process.title = stageTitle(stage, partition.length, job.metadata.name, true);
    void report({ type: 'ready', stage });
    await supervisorMessage('start');
  }
  process.title = stageTitle(stage, partition.length, job.metadata.name);
  const server = stage > 0
    ? await listenLink({ token, maxPayloadBytes: maxBoundaryBytes(spec, partition), ...metrics.linkEvents('upstream'), host: config.listenHost, port: config.listenPort, log: log.link })
    : undefined;
  // /status and the metrics carry the newest committed checkpoint on the volume, whichever stage committed it.
  const checkpointDir = checkpointDirOf(config);
  const commits = checkpointDir
    ? watchCommits(checkpointDir, { intervalMs: COMMIT_WATCH_INTERVAL_MS, onCommit: (commit) => checkpointMetrics.observeCommit(commit) })
    : undefined;
  const onCheckpointWritten = (result: WriteResult) => {
    checkpointMetrics.observeWrite(result);
    void commits?.refresh();
  };
  const committedStatus = () => {
    const commit = commits?.latest();
    return commit ? { checkpointStep: commit.step, checkpointAt: commit.committedAt } : {};
  };
  const resumed: BootedStage['resumed'] = {};
  let statusReads = 0;
  const status = () => {
    statusReads++;
    return { ...metrics.status(), ...committedStatus(), ...resumed };
  };
  const metricsServer = await startMetricsServer({ host: config.metricsHost, port: config.metricsPort, registry: metrics.registry, status });
  void report({ type: 'listening', stage, linkPort: server?.port ?? 0, metricsPort: metricsServer.port });
  log.info('Started stage', { backend: backend.choice, layers: partition[stage], linkPort: server?.port, metricsPort: metricsServer.port });
  return { config, token, log, metrics, metricsServer, server, backend: backend.choice, spec, data, onCheckpointWritten, commits, resumed, statusReads: () => statusReads };
}

/** Links to both neighbours (the downstream address from the config or the supervisor), watched for silence. */
async function connect(stage: BootedStage): Promise<Neighbours> {
  const { config, log, metrics, server } = stage;
  const isLast = config.stage === config.partition.length - 1;
  metrics.setPhase('connecting');
  const linkOptions = { token: stage.token, maxPayloadBytes: maxBoundaryBytes(stage.spec, config.partition), log: log.link };
  const connectDownstream = async () => {
    const url = config.downstreamUrl ?? (await supervisorMessage('connect')).url;
    return connectLink({ ...linkOptions, ...metrics.linkEvents('downstream'), url, connectTimeoutMs: LINK_TIMEOUT_MS });
  };
  const [downstream, upstream] = await Promise.all([isLast ? undefined : connectDownstream(), server?.accept(LINK_TIMEOUT_MS)]);
  await server?.close();
  for (const [peer, link] of [['upstream', upstream], ['downstream', downstream]] as const) {
    if (link) watchPeer(link, { intervalMs: HEARTBEAT_INTERVAL_MS, timeoutMs: PEER_TIMEOUT_MS, onSilent: (ms) => peerLost(log, config.stage, `${peer} stage silent for ${Math.round(ms / 1000)} s`) });
  }
  return { upstream, downstream };
}

/** The stage's model slice, restored from the newest committed checkpoint; every stage agrees on the step. */
async function resume(stage: BootedStage, { upstream, downstream }: Neighbours): Promise<Resumed> {
  const { config, log } = stage;
  const { partition } = config;
  const job = { ...config.job, spec: stage.spec };
  const session = createStageSession({ spec: stage.spec, stage: config.stage, partition, data: stage.data, upstream, downstream, receiveTimeoutMs: config.receiveTimeoutMs });
  const { from } = stage.spec.model;
  const checkpointDir = checkpointDirOf(config);
  // The source's identity is part of the run's, which the resume checks. A resume takes it from the
  // job's own checkpoint: the source is opened only to start from it, as it may be pruned or gone since.
  const recorded = from && checkpointDir ? await recordedSourceIdentity(checkpointDir) : undefined;
  let source = from && !recorded ? await openWeightSource(from, config.baseDir, log.link) : undefined;
  let identity = recorded ?? (source ? sourceIdentity(source) : undefined);
  const checkpointsFor = (sourceId: WeightSourceIdentity | undefined) => checkpointDir
    ? createStageCheckpointing({
      dir: checkpointDir, job, stage: config.stage, partition, session, backend: stage.backend, log: log.link, onWritten: stage.onCheckpointWritten,
      model: describeModel(job, dataTokenizer(stage.data)),
      tokenData: dataIdentity(stage.data),
      source: sourceId,
    })
    : undefined;
  let checkpoints = checkpointsFor(identity);
  const startStep = (await checkpoints?.resume()) ?? 0;
  // A resume from the job's own checkpoint wins over spec.model.from.
  if (from && startStep === 0) {
    source ??= await openWeightSource(from, config.baseDir, log.link);
    // None of the job's checkpoints loaded: this run is the one started from the source as it is now.
    if (identity?.checksum !== source.checksum) checkpoints = checkpointsFor(identity = sourceIdentity(source));
    await startFrom(stage, session, source);
  }
  await agreeOnResumeStep({ step: startStep, sourceChecksum: identity?.checksum }, { upstream, downstream, frames: session.runtime.frames }, LINK_TIMEOUT_MS);
  if (checkpointDir) await noteResume(stage, checkpointDir, startStep, session.plan.totalSteps);
  return { session, checkpoints, startStep, checkpointDir };
}

/** The stage's weights from spec.model.from; stage 0 logs which layers start fresh or are ignored. */
async function startFrom(stage: BootedStage, session: StageSession, source: WeightSource): Promise<void> {
  checkSourceTokenizer(stage.data, source);
  const { model, optimizer } = session.runtime;
  const plan = await startFromSource({ spec: stage.spec, weights: model.weights, optimizer }, source);
  if (stage.config.stage !== 0) return;
  for (const note of plan.notes) stage.log.info(note);
  stage.log.info('Started from spec.model.from', { kind: source.kind, source: source.where, sha256: source.checksum, freshLayers: plan.fresh.length, ignoredLayers: plan.dropped.length });
}

/** A language model continues only on data tokenized as it was trained: the same ids for the same text. */
function checkSourceTokenizer(data: TrainingData, source: WeightSource): void {
  const tokenizer = dataTokenizer(data);
  if (!tokenizer || !source.tokenizer) return;
  const dataSource = isTokenData(data) ? `the prepared folder ${data.dir}` : 'spec.data.dataset.tokenizer';
  checkSameTokenizer({ spec: source.tokenizer, source: source.where }, { spec: tokenizer, source: dataSource }, {
    field: 'spec.model.from',
    fix: `prepare the data with the source's tokenizer (for a char vocabulary: the source job's prepared folder, or an sft dataset with tokenizer {type: prepared, path: <that folder>}), or start from a source trained on this tokenizer`,
  });
}

/** Every remaining step; each finished step is measured, reported, and may start a checkpoint. */
async function train(stage: BootedStage, { session, checkpoints, startStep, checkpointDir }: Resumed): Promise<void> {
  const { metrics } = stage;
  const index = stage.config.stage;
  metrics.setTotalSteps(session.plan.totalSteps);
  metrics.setPhase('training');
  void report({ type: 'training', stage: index, totalSteps: session.plan.totalSteps, startStep });
  await trainStage(session, (result) => {
    metrics.observeStep({ ...result, samples: session.plan.batchSize });
    const { gradientNorm: _norm, ...stepFields } = result;
    void report({ type: 'step', stage: index, ...stepFields });
    if (checkpointDir) recordStepsDone(checkpointDir, index, result.step + 1, result.loss);
    checkpoints?.afterStep(result.step + 1);
  }, startStep);
}

/** The final checkpoint, the weights to the supervisor, then the links and the metrics server close. */
async function finish(stage: BootedStage, { upstream, downstream }: Neighbours, { session, checkpoints }: Resumed): Promise<void> {
  await checkpoints?.finish(session.plan.totalSteps);
  await stage.commits?.refresh();
  stage.commits?.stop();
  stage.metrics.setPhase('finished');
  await finalStatusRead(stage);
  await report({ type: 'finished', stage: stage.config.stage, weights: session.weights() });
  stage.log.info('Finished training', { steps: session.plan.totalSteps, tensors: tf.memory().numTensors });
  await Promise.all([upstream?.close('finished'), downstream?.close('finished')]);
  await stage.metricsServer.close();
}

/**
 * What the status reports of the resume: the checkpoint's step and commit time, how many steps a
 * previous run of this stage had done past it (trained again), and, when nothing is left to train,
 * the loss that run recorded for its last step (the last stage; else no loss could be shown).
 */
async function noteResume(stage: BootedStage, checkpointDir: string, startStep: number, totalSteps: number): Promise<void> {
  const doneBefore = readStepsDone(checkpointDir, stage.config.stage);
  const recomputed = recomputedSteps(doneBefore?.steps, startStep);
  stage.resumed.recomputedSteps = recomputed;
  if (recomputed !== undefined) stage.log.info('Steps done before this run, trained again', { resumedFrom: startStep, stepsDoneBefore: doneBefore?.steps, recomputedSteps: recomputed });
  if (startStep === 0) return;
  stage.resumed.resumedFrom = startStep;
  const commit = await latestCommit(checkpointDir).catch(() => undefined);
  if (commit?.step === startStep) stage.resumed.resumedCheckpointAt = commit.committedAt;
  if (startStep < totalSteps) return;
  // Nothing left to train: the run ends at the checkpoint's step, with the loss recorded there.
  stage.resumed.step = startStep;
  if (doneBefore?.steps === startStep && doneBefore.loss !== undefined) stage.resumed.loss = doneBefore.loss;
}

/** Waits (bounded) until GET /status was served once after the last step, so the operator sees the end. */
async function finalStatusRead(stage: BootedStage): Promise<void> {
  const waitMs = stage.config.finalStatusWaitMs;
  if (!waitMs) return;
  const readsBefore = stage.statusReads();
  const deadline = Date.now() + waitMs;
  while (stage.statusReads() === readsBefore && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** What the data adds to the run's identity (runSpecHash): a tokens folder's shards, an sft file's content. */
function dataIdentity(data: TrainingData): TokenDataIdentity | undefined {
  if (isTokenData(data)) return tokenDataIdentity(data.meta);
  return isSftData(data) ? sftDataIdentity(data) : undefined;
}

function checkpointDirOf(config: StageConfig): string | undefined {
  const path = config.job.spec.checkpoint?.path;
  return path ? resolve(config.baseDir, path) : undefined;
}

function peerLost(log: Logger, stage: number, reason: string): void {
  log.error('Lost a neighbour stage', { reason });
  void report({ type: 'failed', stage, message: `peer lost: ${reason}`, exitCode: StageExit.PeerLost }).then(() => process.exit(StageExit.PeerLost));
}

/** The stage's configuration and token from the environment (the local runner and the operator set them). */
function readEnvironment(): { config: StageConfig; token: string } {
  const raw = process.env[CONFIG_ENV];
  if (!raw) throw new DataError(`${CONFIG_ENV} is not set (the stage configuration, JSON)`);
  let config: StageConfig;
  try {
    config = JSON.parse(raw) as StageConfig;
  } catch {
    throw new DataError(`${CONFIG_ENV} is not valid JSON`);
  }
  const token = process.env[TOKEN_ENV];
  if (!token) throw new DataError(`${TOKEN_ENV} is not set: stages refuse to run without the job's token`);
  return { config, token };
}

function exitCodeFor(error: unknown): number {
  // A backend missing from this machine or image does not come back when the stage restarts.
  if (error instanceof DataError || error instanceof RangeError || error instanceof CheckpointMismatchError || error instanceof BackendUnavailableError) return StageExit.InvalidJob;
  // A neighbour that sent frames we cannot use, or not the frame that was due, is as lost as one whose link broke.
  if (error instanceof LinkClosedError || error instanceof PeerFrameError) return StageExit.PeerLost;
  return StageExit.Failed;
}

/** Logs and reports the failure, then exits with its code; `stage` is undefined when the config was unreadable. */
function fail(log: Logger, stage: number | undefined, error: unknown): void {
  const exitCode = exitCodeFor(error);
  const message = error instanceof Error ? error.message : String(error);
  log.error('Stage failed', { error: message, exitCode });
  void report({ type: 'failed', stage: stage ?? -1, message, exitCode }).then(() => process.exit(exitCode));
}

/**
 * Runs this process as one pipeline stage and exits with a StageExit code. Configuration comes
 * from the environment (CONFIG_ENV, TOKEN_ENV): the local runner and the operator both set it.
 */
export function runStageProcess(): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(StageExit.Terminated));
  listenToSupervisor();
  let environment: { config: StageConfig; token: string };
  try {
    environment = readEnvironment();
  } catch (error) {
    return fail(createLogger({}), undefined, error);
  }
  const { config, token } = environment;
  const log = createLogger({ job: config.job?.metadata?.name, stage: config.stage });
  runStage(config, token, log).then(
    () => process.exit(StageExit.Succeeded),
    (error: unknown) => fail(log, config.stage, error),
  );
}
