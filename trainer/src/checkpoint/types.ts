// Public data types of the checkpoint store. Tensors are plain float32 arrays already copied out of
// the tfjs backend: this module never imports TensorFlow, so it can run in any process.

export interface TensorRecord {
  /** Stable name, e.g. `layer3_dense/kernel` or the slot `layer3_dense/kernel/m`. */
  name: string;
  shape: number[];
  /** Row-major values; `data.length` must equal the product of `shape`. */
  data: Float32Array;
}

/** One layer's state: its weights (in layer order) and its optimizer slots (e.g. `<weight>/m`, `<weight>/v`, `<weight>/momentum`). */
export interface LayerState {
  layerIndex: number;
  weights: TensorRecord[];
  slots: TensorRecord[];
}

export interface OptimizerState {
  type: string;
  /** Float64 scalars such as Adam's `beta1Power`/`beta2Power`; stored as JSON numbers, which round-trip doubles exactly. */
  scalars: Record<string, number>;
}

export interface DataPosition {
  epoch: number;
  /** Steps into the epoch. */
  offset: number;
}

/** Everything one stage saves at one step. The arrays are read (not copied) until the save settles: do not modify them meanwhile. */
export interface StageSnapshot {
  jobName: string;
  /** Optimizer steps completed, >= 1. */
  step: number;
  /** 0-based stage index, < stages. */
  stage: number;
  stages: number;
  /** Layers per stage, in order; `partition.length === stages`. */
  partition: number[];
  /** This stage's layers: exactly the global indices its partition slice covers. */
  layers: LayerState[];
  optimizer: OptimizerState;
  data: DataPosition;
  backend: string;
  seed: number;
  /** sha256 (hex) of what defines the run (model, data, training), to refuse loading into another run. */
  specHash: string;
  /**
   * What the model is, as JSON (the trainer's choice; stage/checkpointing.ts), so that tools such
   * as `pipetrain generate` can rebuild it from the checkpoint folder alone. Optional.
   */
  model?: unknown;
  /**
   * The weight source the run started from (spec.model.from): its kind and checksum, part of the
   * run's identity. A resume takes it from here instead of opening the source, which may have
   * changed or be gone since. Optional.
   */
  source?: RecordedSource;
}

export interface RecordedSource {
  kind: string;
  checksum: string;
}

export interface WriteInfo {
  step: number;
  stage: number;
  /** Bytes written by this stage: its layer files plus its manifest. */
  bytes: number;
  /** Wall time from the start of the write (not of the wait for a previous one) to the manifest's directory fsync. */
  seconds: number;
  /** True when this writer's `autoCommit` found every stage's part and the step is committed. */
  committed: boolean;
}

export type WriteResult = { ok: true; info: WriteInfo } | { ok: false; error: string };

export type LogLevel = 'info' | 'warn' | 'error';
export type Log = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

export interface CheckpointInfo {
  step: number;
  /** ISO time at which the last stage's part was written (same in every process that commits it). */
  committedAt: string;
  /** Total bytes of the checkpoint's layer files and manifests. */
  bytes: number;
  stages: number;
  partition: number[];
  backend: string;
  /** True when every file matches its recorded checksum (or only sizes, with `verify: false`). */
  verified: boolean;
  /** Why it does not verify, each naming the file. */
  problems: string[];
}

export interface LoadedCheckpoint {
  step: number;
  /** The requested layers by global index. */
  layers: Map<number, LayerState>;
  optimizer: OptimizerState;
  data: DataPosition;
  backend: string;
  seed: number;
  specHash: string;
  /** The partition that wrote it (may differ from the reader's). */
  partition: number[];
  jobName: string;
  /** StageSnapshot.model as stage 0 wrote it, if it did. */
  model?: unknown;
}
