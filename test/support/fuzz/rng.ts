// Seeded randomness for the fuzz tests: every run prints its seed, and the same seed replays the
// same cases (PIPETRAIN_FUZZ_SEED=<seed>). Built on the trainer's mulberry32.
import { randomInt } from 'node:crypto';
import { seededRandom } from '../../../trainer/src/model/seeds.ts';

export interface Rng {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  bytes(n: number): Buffer;
  /** An independent generator for case `index` (a case replays alone from seed and index). */
  fork(index: number): Rng;
}

/** The run's seed: PIPETRAIN_FUZZ_SEED when set, else a fresh random one. */
export function fuzzSeed(): number {
  const fixed = process.env.PIPETRAIN_FUZZ_SEED;
  if (fixed !== undefined && fixed !== '') {
    const seed = Number(fixed);
    if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffff_ffff) throw new TypeError(`PIPETRAIN_FUZZ_SEED must be an integer in [0, 2^32), got ${fixed}.`);
    return seed;
  }
  return randomInt(0, 0xffff_ffff);
}

export function createRng(seed: number): Rng {
  const next = seededRandom(seed);
  const int = (n: number) => Math.floor(next() * n);
  return {
    seed,
    next,
    int,
    between: (lo, hi) => lo + int(hi - lo + 1),
    chance: (p) => next() < p,
    pick: (items) => items[int(items.length)]!,
    bytes: (n) => {
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) out[i] = int(256);
      return out;
    },
    fork: (index) => createRng((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0),
  };
}

/** How to replay a run, for test diagnostics and assertion messages. */
export function replayHint(seed: number, what: string): string {
  return `fuzz seed ${seed} (replay: PIPETRAIN_FUZZ_SEED=${seed} ${what})`;
}
