// CheckpointWriter: writes one stage's part of a checkpoint off the training path. save() only
// takes a shallow copy of the snapshot's structure (no tensor data is copied) and queues the write;
// the bytes go to disk through async fs (libuv thread pool) while this thread hashes them in 1 MiB
// slices. Writes are serialised: a save issued while one is running starts after it.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fsyncFolder, writeFileAtomic } from './atomic.ts';
import { tryCommit } from './commit.ts';
import { encodeLayer } from './format.ts';
import { layerFileName, manifestFileName, stepDir } from './layout.ts';
import { jsonBytes, type StageManifest } from './manifest.ts';
import { applyRetention } from './retention.ts';
import type { Log, StageSnapshot, WriteResult } from './types.ts';
import { checkSnapshot } from './validate.ts';

export interface CheckpointWriterOptions {
  /** Receives one line per write (info), per failure (error) and per commit/retention problem (warn). Default: none. */
  log?: Log;
  /** After writing its part, try to commit the step (the last stage to finish succeeds). Default false. */
  autoCommit?: boolean;
  /** With autoCommit: after committing, keep only this many committed checkpoints (see applyRetention). Default: keep all. */
  keep?: number;
}

export class CheckpointWriter {
  readonly dir: string;
  readonly #log: Log;
  readonly #autoCommit: boolean;
  readonly #keep: number | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #pending = 0;
  #failures = 0;

  constructor(dir: string, options: CheckpointWriterOptions = {}) {
    if (typeof dir !== 'string' || dir === '') throw new TypeError('dir must be a non-empty path.');
    if (options.keep !== undefined && !(Number.isSafeInteger(options.keep) && options.keep >= 1)) throw new TypeError(`keep must be an integer >= 1; got ${String(options.keep)}.`);
    this.dir = dir;
    this.#log = options.log ?? (() => undefined);
    this.#autoCommit = options.autoCommit ?? false;
    this.#keep = options.keep;
  }

  /** True while a save is running or waiting for the previous one. */
  get inFlight(): boolean {
    return this.#pending > 0;
  }

  /** Saves that failed so far. */
  get failures(): number {
    return this.#failures;
  }

  /**
   * Starts writing in the background and returns at once. The snapshot's Float32Arrays are read,
   * not copied: leave them unchanged until the promise settles. Never rejects: a failed write is
   * logged, counted and resolves `{ ok: false, error }`; the previous checkpoints are untouched.
   */
  save(snapshot: StageSnapshot): Promise<WriteResult> {
    let copy: StageSnapshot;
    try {
      copy = shallowCopy(snapshot);
    } catch (error) {
      return Promise.resolve(this.#failed(snapshot, error));
    }
    this.#pending++;
    const run = this.#queue
      .then(() => this.#write(copy))
      .then((result) => result, (error: unknown) => this.#failed(copy, error))
      .finally(() => this.#pending--);
    this.#queue = run;
    return run;
  }

  #failed(s: Partial<StageSnapshot>, error: unknown): WriteResult {
    this.#failures++;
    const message = error instanceof Error ? error.message : String(error);
    const stage = typeof s.stage === 'number' && typeof s.stages === 'number' ? ` stage ${s.stage + 1} of ${s.stages}` : '';
    this.#log('error', `checkpoint step ${String(s.step)}${stage}: write failed: ${message}`, { step: s.step, stage: s.stage, dir: this.dir, error: message });
    return { ok: false, error: message };
  }

  /** Resolves when every save issued so far has settled. */
  async flush(): Promise<void> {
    while (this.#pending > 0) await this.#queue;
  }

  async #write(s: StageSnapshot): Promise<WriteResult> {
    const started = performance.now();
    checkSnapshot(s);
    const folder = stepDir(this.dir, s.step);
    // New folders must be durable too: fsync the parent of the first one created and the checkpoint root.
    const created = await mkdir(folder, { recursive: true });
    if (created !== undefined) for (const parent of new Set([path.dirname(created), this.dir])) await fsyncFolder(parent);
    // Layer files are written concurrently: their writes and fsyncs overlap on the thread pool.
    // All of them are waited for, also when one fails: none is left writing (or leaves its temporary
    // file) after save() has answered.
    const settled = await Promise.allSettled(
      s.layers.map(async (layer) => {
        const file = layerFileName(layer.layerIndex);
        const { bytes, sha256 } = await writeFileAtomic(folder, file, encodeLayer(layer).chunks, { syncFolder: false });
        return { layerIndex: layer.layerIndex, file, bytes, sha256 };
      }),
    );
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const layers: StageManifest['layers'] = settled.map((result) => (result as PromiseFulfilledResult<StageManifest['layers'][number]>).value);
    await fsyncFolder(folder);
    // The manifest goes last: its presence means this stage's layer files are complete and durable.
    const manifest: StageManifest = {
      format: 'pipetrain-stage-part', version: 1, jobName: s.jobName, step: s.step, stage: s.stage, stages: s.stages,
      partition: s.partition, layers, optimizer: s.optimizer, data: s.data, backend: s.backend, seed: s.seed,
      specHash: s.specHash, ...(s.model === undefined ? {} : { model: s.model }), ...(s.source === undefined ? {} : { source: s.source }), writtenAt: new Date().toISOString(),
    };
    const written = await writeFileAtomic(folder, manifestFileName(s.stage, s.stages), [jsonBytes(manifest)]);
    const seconds = (performance.now() - started) / 1000;
    const bytes = written.bytes + layers.reduce((sum, l) => sum + l.bytes, 0);
    const committed = this.#autoCommit ? await this.#commit(s.step, s.stages) : false;
    this.#log('info', `checkpoint step ${s.step} stage ${s.stage + 1} of ${s.stages}: wrote ${bytes} bytes in ${seconds.toFixed(3)} s${committed ? ', committed' : ''}`, { step: s.step, stage: s.stage, bytes, seconds, committed });
    return { ok: true, info: { step: s.step, stage: s.stage, bytes, seconds, committed } };
  }

  /** Commit and retention problems do not fail the save: this stage's part is written and valid. */
  async #commit(step: number, stages: number): Promise<boolean> {
    let committed = false;
    try {
      committed = await tryCommit(this.dir, step, stages);
      if (committed && this.#keep !== undefined) await applyRetention(this.dir, this.#keep, { verified: step });
    } catch (error) {
      this.#log('warn', `checkpoint step ${step}: ${committed ? 'retention' : 'commit'} failed: ${(error as Error).message}`, { step });
    }
    return committed;
  }
}

/** Copies the snapshot's structure (not its tensor data) so later changes by the caller cannot leak into the write. */
function shallowCopy(s: StageSnapshot): StageSnapshot {
  return {
    ...s,
    partition: [...s.partition],
    layers: s.layers.map((l) => ({ layerIndex: l.layerIndex, weights: l.weights.map((t) => ({ ...t, shape: [...t.shape] })), slots: l.slots.map((t) => ({ ...t, shape: [...t.shape] })) })),
    optimizer: { type: s.optimizer.type, scalars: { ...s.optimizer.scalars } },
    data: { ...s.data },
  };
}
