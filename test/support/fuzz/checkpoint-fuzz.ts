// Checkpoint fuzzing at the reader: a real 2-stage checkpoint store (steps 10, 20, 30) and one of
// another job (steps 10, 20, another spec hash, other values) are copied and damaged: bit flips,
// truncation, deleted files, files swapped between steps and between jobs, another model's
// manifests, commit records without their parts, renamed step folders. The reader must return
// exactly the weights of the step it names, or skip with a warning naming the file, or refuse.
import { cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointWriter } from '../../../trainer/src/checkpoint/writer.ts';
import { tryCommit } from '../../../trainer/src/checkpoint/commit.ts';
import { stepDirName } from '../../../trainer/src/checkpoint/layout.ts';
import { CheckpointMismatchError, loadLatestCommitted } from '../../../trainer/src/checkpoint/reader.ts';
import { bits, layerState, snapshot, SPEC_HASH } from '../checkpoint-fixtures.ts';
import { createRng, type Rng } from './rng.ts';

const PARTITION = [2, 3];
const STEPS = [10, 20, 30];
const OTHER_HASH = 'b'.repeat(64);
/** The other job's values are those of step + OTHER_OFFSET of ours, so they never equal ours. */
const OTHER_OFFSET = 500;

export interface CheckpointFuzzResult {
  cases: number;
  /** How the cases ended: loaded step N, none left, refused. */
  outcomes: Record<string, number>;
  mutations: Record<string, number>;
  failures: string[];
  seconds: number;
}

async function writeStore(dir: string, steps: number[], other: boolean): Promise<void> {
  for (const step of steps) {
    const parts = PARTITION.map((_, stage) =>
      other
        ? snapshot(step, stage, PARTITION, { jobName: 'other', specHash: OTHER_HASH, layers: snapshot(step, stage, PARTITION).layers.map((l) => layerState(l.layerIndex, step + OTHER_OFFSET)) })
        : snapshot(step, stage, PARTITION),
    );
    const results = await Promise.all(parts.map((part) => new CheckpointWriter(dir, { keep: 10 }).save(part)));
    for (const result of results) if (!result.ok) throw new Error(result.error);
    if (!(await tryCommit(dir, step, PARTITION.length))) throw new Error(`step ${step} did not commit`);
  }
}

const filesOf = (dir: string, step: number): string[] => {
  const folder = join(dir, stepDirName(step));
  return existsSync(folder) ? readdirSync(folder).filter((name) => !name.startsWith('.')) : [];
};

/** One damage to the copy in `dir`; `other` is the other job's store. Returns its label, and whether another model's record was put in. */
function damage(rng: Rng, dir: string, other: string, pristine: string): { label: string; foreign: boolean } {
  const step = rng.pick(STEPS);
  const folder = join(dir, stepDirName(step));
  const files = filesOf(dir, step);
  if (files.length === 0) return { label: 'none (folder gone)', foreign: false };
  const file = join(folder, rng.pick(files));
  switch (rng.int(10)) {
    case 0: {
      const bytes = readFileSync(file);
      if (bytes.length === 0) return { label: 'none (empty file)', foreign: false };
      for (let n = rng.between(1, 3); n > 0; n--) bytes[rng.int(bytes.length)]! ^= 1 << rng.int(8);
      writeFileSync(file, bytes);
      return { label: 'bit flip', foreign: false };
    }
    case 1:
      truncateSync(file, rng.int(readFileSync(file).length));
      return { label: 'truncated', foreign: false };
    case 2:
      unlinkSync(file);
      return { label: 'file deleted', foreign: false };
    case 3: { // the same file name from another step of this job
      const from = rng.pick(STEPS.filter((s) => s !== step));
      const source = join(dir, stepDirName(from), file.split('/').pop()!);
      if (!existsSync(source)) return { label: 'none (source gone)', foreign: false };
      cpSync(source, file);
      return { label: 'file swapped between steps', foreign: false };
    }
    case 4: { // the same file from the other job's same step
      const source = join(other, stepDirName(Math.min(step, 20)), file.split('/').pop()!);
      cpSync(source, file);
      return { label: 'file swapped between jobs', foreign: file.endsWith('COMMITTED.json') };
    }
    case 5: { // another model's manifests and commit record, with our layer files
      const source = join(other, stepDirName(Math.min(step, 20)));
      for (const name of readdirSync(source).filter((n) => n.endsWith('.json'))) cpSync(join(source, name), join(folder, name));
      return { label: 'manifests of another model', foreign: true };
    }
    case 6: { // the other job's whole step folder in place of ours
      rmSync(folder, { recursive: true });
      cpSync(join(other, stepDirName(Math.min(step, 20))), folder, { recursive: true });
      return { label: 'step folder of another job', foreign: true };
    }
    case 7: { // a commit record without its parts: a newer step with only COMMITTED.json (edited to match)
      const record = JSON.parse(readFileSync(join(pristine, stepDirName(30), 'COMMITTED.json'), 'utf8')) as { step: number };
      record.step = 40;
      const newer = join(dir, stepDirName(40));
      rmSync(newer, { recursive: true, force: true });
      cpSync(join(pristine, stepDirName(30)), newer, { recursive: true });
      for (const name of filesOf(dir, 40).filter((n) => n !== 'COMMITTED.json' && rng.chance(0.5))) unlinkSync(join(newer, name));
      if (filesOf(dir, 40).length === filesOf(pristine, 30).length) unlinkSync(join(newer, 'stage-1-of-2.json'));
      writeFileSync(join(newer, 'COMMITTED.json'), JSON.stringify(record));
      return { label: 'commit record without its parts', foreign: false };
    }
    case 8: { // a step folder renamed to a newer step
      const target = join(dir, stepDirName(step + 25));
      if (existsSync(target)) return { label: 'none (target exists)', foreign: false };
      renameSync(folder, target);
      return { label: 'step folder renamed', foreign: false };
    }
    default: { // random bytes in place of a file
      writeFileSync(file, rng.bytes(rng.int(300)));
      return { label: 'random bytes', foreign: false };
    }
  }
}

/** Checks one load against the truth; returns what is wrong, or undefined. */
async function checkLoad(dir: string, layers: number[], foreign: boolean): Promise<{ outcome: string; wrong?: string }> {
  const warnings: string[] = [];
  let loaded;
  try {
    loaded = await loadLatestCommitted(dir, { layers, specHash: SPEC_HASH, log: (level, message) => void warnings.push(`${level}: ${message}`) });
  } catch (error) {
    if (error instanceof CheckpointMismatchError) {
      return foreign ? { outcome: 'refused' } : { outcome: 'refused', wrong: `refused though no other run's record was put in: ${error.message}` };
    }
    return { outcome: 'threw', wrong: `threw ${(error as Error).stack ?? String(error)}` };
  }
  for (const warning of warnings) {
    if (!warning.includes(`${dir}/step-`)) return { outcome: 'warned', wrong: `a warning that names no file: ${warning}` };
  }
  if (!loaded) return { outcome: 'none left' };
  // Exactly our weights, slots and scalars of the step it says.
  const step = loaded.step;
  if (!STEPS.includes(step)) return { outcome: `loaded ${step}`, wrong: `loaded step ${step}, which was never written` };
  for (const index of layers) {
    const want = layerState(index, step);
    const got = loaded.layers.get(index);
    const same = got !== undefined && [...want.weights, ...want.slots].every((t, k) => {
      const g = [...got.weights, ...got.slots][k];
      return g !== undefined && g.name === t.name && g.shape.join() === t.shape.join() && bits(g.data).join() === bits(t.data).join();
    }) && got.weights.length + got.slots.length === want.weights.length + want.slots.length;
    if (!same) return { outcome: `loaded ${step}`, wrong: `layer ${index} of step ${step} is not what was written at step ${step}` };
  }
  const scalars = snapshot(step, 0, PARTITION).optimizer.scalars;
  if (JSON.stringify(loaded.optimizer.scalars) !== JSON.stringify(scalars) || loaded.specHash !== SPEC_HASH) return { outcome: `loaded ${step}`, wrong: `step ${step}'s optimizer scalars or spec hash differ` };
  return { outcome: `loaded ${step}` };
}

export async function runCheckpointFuzz(seed: number, cases: number): Promise<CheckpointFuzzResult> {
  const started = performance.now();
  const root = mkdtempSync(join(tmpdir(), 'pipetrain-ckpt-fuzz-'));
  const result: CheckpointFuzzResult = { cases: 0, outcomes: {}, mutations: {}, failures: [], seconds: 0 };
  try {
    const pristine = join(root, 'pristine');
    const other = join(root, 'other');
    await writeStore(pristine, STEPS, false);
    await writeStore(other, [10, 20], true);
    const rng = createRng(seed);
    for (let i = 0; i < cases && result.failures.length < 10; i++) {
      const caseRng = rng.fork(i);
      const dir = join(root, `case-${i}`);
      cpSync(pristine, dir, { recursive: true });
      const labels: string[] = [];
      let foreign = false;
      for (let n = caseRng.between(1, 3); n > 0; n--) {
        const done = damage(caseRng, dir, other, pristine);
        labels.push(done.label);
        foreign ||= done.foreign;
        result.mutations[done.label] = (result.mutations[done.label] ?? 0) + 1;
      }
      // One reader for all layers and one per stage, as a restarted pipeline's stages read.
      for (const layers of [[0, 1, 2, 3, 4], [0, 1], [2, 3, 4]]) {
        const { outcome, wrong } = await checkLoad(dir, layers, foreign);
        if (layers.length === 5) result.outcomes[outcome] = (result.outcomes[outcome] ?? 0) + 1;
        if (wrong) result.failures.push(`case ${i} of seed ${seed} (${labels.join('; ')}), layers ${layers.join(',')}: ${wrong}`);
      }
      result.cases++;
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
