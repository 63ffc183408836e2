// Deterministic integer seeds derived from a job seed and a few coordinates.
// Weight initialisation and dropout masks must not depend on how the model is partitioned or on
// which process computes them, so every random draw is keyed by (job seed, layer, ...) and nothing else.

/** Mixes integers into one 31-bit seed (FNV-1a over the 32-bit words, then an avalanche step). */
export function mixSeed(...parts: number[]): number {
  let hash = 0x811c9dc5;
  for (const part of parts) {
    let word = part >>> 0;
    for (let byte = 0; byte < 4; byte++) {
      hash ^= word & 0xff;
      hash = Math.imul(hash, 0x01000193);
      word >>>= 8;
    }
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return (hash >>> 0) & 0x7fffffff;
}

/** A small seeded PRNG (mulberry32) returning 32-bit unsigned integers: for hash seeds (MinHash). */
export function seededUint32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** The same generator as floats in [0, 1): for data shuffling, synthetic data, fault plans. */
export function seededRandom(seed: number): () => number {
  const next = seededUint32(seed);
  return () => next() / 4294967296;
}

/** Fisher-Yates shuffle of 0..n-1 driven by `seed`. */
export function seededPermutation(n: number, seed: number): Int32Array {
  const random = seededRandom(seed);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  return order;
}
