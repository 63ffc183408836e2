// The checkpoint store (issue 3 §1): per-layer files, per-stage manifests written last, a commit
// record once every stage's part verifies, atomic writes throughout. No TensorFlow import: tensors
// arrive as Float32Arrays already copied out of the backend. See layout.ts for the folder layout
// and format.ts for the layer file format.
export type { CheckpointInfo, DataPosition, LayerState, LoadedCheckpoint, Log, LogLevel, RecordedSource, OptimizerState, StageSnapshot, TensorRecord, WriteInfo, WriteResult } from './types.ts';
export { CheckpointWriter, type CheckpointWriterOptions } from './writer.ts';
export { tryCommit } from './commit.ts';
export { listCheckpoints, listUncommitted } from './list.ts';
export { CheckpointMismatchError, latestCommit, latestCommittedStep, latestRecordedSource, loadLatestCommitted, type LoadOptions } from './reader.ts';
export { applyRetention } from './retention.ts';
export { discardStaleParts } from './stale-parts.ts';
export { COMMIT_FILE, layerFileName, manifestFileName, stepDirName } from './layout.ts';
export { checkpointWeightsDigest } from './digest.ts';
