// The LSH index of near-duplicate removal: a signature of `permutations` values is cut into `bands`
// bands of `rows` values; two documents become candidates when one band is equal, and a candidate
// is a near-duplicate when the estimated Jaccard similarity of the signatures reaches the threshold.
// (bands, rows) are chosen for the threshold as datasketch's MinHashLSH does: minimizing the sum of
// the areas of false positives and false negatives under the S-curve 1 - (1 - s^rows)^bands.
//
// Memory per kept document: one byte per permutation (the low 8 bits of each value: "b-bit
// MinHash", Li & König 2010, with the estimate corrected for chance matches) plus one map entry per
// band (about 24-48 bytes), so a million documents at 128 permutations take about 0.4 GB.
import { HashMap64 } from './hash-set.ts';
import { fmix32 } from './minhash.ts';

export interface LshParameters {
  bands: number;
  rows: number;
}

const STEPS = 200;

function integrate(f: (s: number) => number, from: number, to: number): number {
  const width = (to - from) / STEPS;
  let sum = 0;
  for (let i = 0; i < STEPS; i++) sum += f(from + (i + 0.5) * width) * width;
  return sum;
}

export function lshParameters(threshold: number, permutations: number): LshParameters {
  let best: LshParameters & { error: number } = { bands: 1, rows: permutations, error: Infinity };
  for (let bands = 1; bands <= permutations; bands++) {
    const maxRows = Math.floor(permutations / bands);
    for (let rows = 1; rows <= maxRows; rows++) {
      const candidate = (s: number) => 1 - (1 - s ** rows) ** bands;
      const error = integrate(candidate, 0, threshold) + integrate((s) => 1 - candidate(s), threshold, 1);
      if (error < best.error) best = { bands, rows, error };
    }
  }
  return { bands: best.bands, rows: best.rows };
}

/** Chance that two unrelated low bytes are equal: the b-bit estimate subtracts it. */
const CHANCE = 1 / 256;

export interface NearDuplicateMatch {
  /** The kept document's number (in the order add() was called). */
  document: number;
  similarity: number;
}

export class NearDuplicateIndex {
  readonly parameters: LshParameters;
  private readonly permutations: number;
  private readonly threshold: number;
  private readonly buckets = new HashMap64(1024);
  private lowBytes = new Uint8Array(0);
  private count = 0;

  constructor(permutations: number, threshold: number) {
    this.permutations = permutations;
    this.threshold = threshold;
    this.parameters = lshParameters(threshold, permutations);
  }

  get size(): number {
    return this.count;
  }

  /** Memory held, in bytes. */
  get bytes(): number {
    return this.buckets.bytes + this.lowBytes.byteLength;
  }

  /** The earliest kept document that shares a band with this signature and is similar enough. */
  find(signature: Uint32Array): NearDuplicateMatch | undefined {
    const tried = new Set<number>();
    for (let band = 0; band < this.parameters.bands; band++) {
      const [hi, lo] = this.bandKey(signature, band);
      const document = this.buckets.get(hi, lo);
      if (document < 0 || tried.has(document)) continue;
      tried.add(document);
      const similarity = this.similarity(signature, document);
      if (similarity >= this.threshold) return { document, similarity };
    }
    return undefined;
  }

  /** Adds a kept document's signature; returns its number. */
  add(signature: Uint32Array): number {
    const document = this.count++;
    for (let band = 0; band < this.parameters.bands; band++) {
      const [hi, lo] = this.bandKey(signature, band);
      if (this.buckets.get(hi, lo) < 0) this.buckets.set(hi, lo, document);
    }
    this.storeLowBytes(signature, document);
    return document;
  }

  private bandKey(signature: Uint32Array, band: number): [number, number] {
    let hi = fmix32(band + 0x51ed27);
    let lo = fmix32(band ^ 0x2545f491);
    const start = band * this.parameters.rows;
    for (let i = start; i < start + this.parameters.rows; i++) {
      hi = fmix32(hi ^ signature[i]!);
      lo = fmix32(Math.imul(lo, 0x9e3779b1) + signature[i]!);
    }
    return [hi, lo];
  }

  private similarity(signature: Uint32Array, document: number): number {
    const stored = this.lowBytes.subarray(document * this.permutations, (document + 1) * this.permutations);
    let equal = 0;
    for (let i = 0; i < this.permutations; i++) if ((signature[i]! & 0xff) === stored[i]) equal++;
    return Math.max(0, (equal / this.permutations - CHANCE) / (1 - CHANCE));
  }

  private storeLowBytes(signature: Uint32Array, document: number): void {
    const needed = (document + 1) * this.permutations;
    if (needed > this.lowBytes.length) {
      const grown = new Uint8Array(Math.max(needed, this.lowBytes.length * 2, 1024 * this.permutations));
      grown.set(this.lowBytes);
      this.lowBytes = grown;
    }
    for (let i = 0; i < this.permutations; i++) this.lowBytes[document * this.permutations + i] = signature[i]! & 0xff;
  }
}
