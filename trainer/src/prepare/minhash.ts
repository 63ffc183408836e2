// MinHash signatures of documents over word shingles (Broder 1997), seeded so every run gives the
// same signature. Words are runs of letters and digits, lower-cased; a shingle is `shingleWords`
// consecutive words, hashed to 32 bits with murmur3's finalizer (fmix32). Hash function i maps a
// shingle hash x to h = (x XOR a_i) * b_i (b_i odd), then h XOR (h >>> 16): each step is a bijection
// of 32-bit values, so every function is a permutation, and it costs three 32-bit operations (the
// inner loop runs permutations × shingles times: most of preparation's time).
//
// Written here rather than taken from npm: `minhash` (0.0.x) and the MinHash of `bloom-filters` have
// no LSH banding over a stream of documents and hash values through generic code; this file is small
// and its estimate is tested against exact Jaccard similarities.
import { seededUint32 } from '../model/seeds.ts';

const LETTER_OR_DIGIT = /[\p{L}\p{M}\p{N}]/u;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit FNV-1a hashes of the words of a text (letters and digits, lower-cased). */
export function wordHashes(text: string): number[] {
  const out: number[] = [];
  let hash = FNV_OFFSET;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    let isWordChar: boolean;
    if (code < 128) {
      if (code >= 65 && code <= 90) code += 32; // A-Z to a-z
      isWordChar = (code >= 97 && code <= 122) || (code >= 48 && code <= 57);
    } else {
      const char = String.fromCodePoint(text.codePointAt(i)!);
      isWordChar = LETTER_OR_DIGIT.test(char);
      if (isWordChar) {
        const lower = char.toLowerCase();
        for (let j = 0; j < lower.length; j++) hash = Math.imul(hash ^ lower.charCodeAt(j), FNV_PRIME);
        if (char.length === 2) i++;
        inWord = true;
        continue;
      }
    }
    if (isWordChar) {
      hash = Math.imul(hash ^ code, FNV_PRIME);
      inWord = true;
    } else if (inWord) {
      out.push(hash >>> 0);
      hash = FNV_OFFSET;
      inWord = false;
    }
  }
  if (inWord) out.push(hash >>> 0);
  return out;
}

export class MinHasher {
  readonly permutations: number;
  readonly shingleWords: number;
  private readonly xors: Uint32Array;
  private readonly multipliers: Uint32Array;

  constructor(permutations: number, shingleWords: number, seed: number) {
    this.permutations = permutations;
    this.shingleWords = shingleWords;
    const next = seededUint32(seed);
    this.xors = Uint32Array.from({ length: permutations }, next);
    this.multipliers = Uint32Array.from({ length: permutations }, () => next() | 1);
  }

  /** The signature of a text, or undefined when it has no words. A text shorter than one shingle is one shingle. */
  signature(text: string): Uint32Array | undefined {
    const words = wordHashes(text);
    if (words.length === 0) return undefined;
    const signature = new Uint32Array(this.permutations).fill(0xffffffff);
    const k = Math.min(this.shingleWords, words.length);
    const xors = this.xors;
    const multipliers = this.multipliers;
    for (let start = 0; start + k <= words.length; start++) {
      let shingle = 0x9747b28c;
      for (let j = 0; j < k; j++) shingle = Math.imul(shingle ^ words[start + j]!, 0x9e3779b1) ^ (shingle >>> 15);
      shingle = fmix32(shingle);
      for (let i = 0; i < xors.length; i++) {
        let value = Math.imul(shingle ^ xors[i]!, multipliers[i]!);
        value = (value ^ (value >>> 16)) >>> 0;
        if (value < signature[i]!) signature[i] = value;
      }
    }
    return signature;
  }
}

/** Share of equal slots of two full signatures: the MinHash estimate of their Jaccard similarity. */
export function estimatedJaccard(a: Uint32Array, b: Uint32Array): number {
  let equal = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) equal++;
  return equal / a.length;
}

/** Exact Jaccard similarity of the shingle sets of two texts (for tests and small inputs). */
export function exactJaccard(a: string, b: string, shingleWords: number): number {
  const shingles = (text: string) => {
    const words = wordHashes(text);
    const k = Math.min(shingleWords, words.length);
    const set = new Set<string>();
    for (let start = 0; start + k <= words.length; start++) set.add(words.slice(start, start + k).join(','));
    return set;
  };
  const sa = shingles(a);
  const sb = shingles(b);
  let both = 0;
  for (const s of sa) if (sb.has(s)) both++;
  const union = sa.size + sb.size - both;
  return union === 0 ? 1 : both / union;
}
