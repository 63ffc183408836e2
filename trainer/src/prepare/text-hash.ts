// 64 bits of a SHA-1 of text, as two uint32 halves (the keys of HashSet64). SHA-1 only as a fast,
// well-mixed fingerprint here, never for security: duplicates are equal fingerprints.
import { createHash, type Hash } from 'node:crypto';

export interface Key64 {
  hi: number;
  lo: number;
}

export function keyOfDigest(digest: Buffer): Key64 {
  return { hi: digest.readUInt32LE(0), lo: digest.readUInt32LE(4) };
}

export function hashText64(text: string): Key64 {
  return keyOfDigest(createHash('sha1').update(text).digest());
}

/** A fingerprint built piece by piece (a document, one paragraph at a time). */
export function textHasher(): Hash {
  return createHash('sha1');
}
