// The weights digest: SHA-256 over every trainable weight in model layer order, as little-endian
// float32 bytes. It does not depend on the partition, so runs can be compared by digest alone.
// A tied weight counts once (the embedding's); its copy on the lmHead's stage must be equal.
import { createHash } from 'node:crypto';

export interface WeightBytes {
  name: string;
  /** Index of the layer the weight belongs to: the digest sorts by it, then by position within the layer. */
  layerIndex: number;
  data: Float32Array;
  /** A tied lmHead's copy of the embedding matrix (same name): not in the digest. */
  tiedCopy?: boolean;
}

export function weightsDigest(weights: WeightBytes[]): string {
  const hash = createHash('sha256');
  const ordered = weights.filter((w) => !w.tiedCopy).map((w, position) => ({ w, position })).sort((a, b) => a.w.layerIndex - b.w.layerIndex || a.position - b.position);
  for (const { w } of ordered) hash.update(littleEndianBytes(w.data));
  return hash.digest('hex');
}

function littleEndianBytes(data: Float32Array): Uint8Array {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  return bytes;
}

/** Names of tied copies whose values differ from their original's (bit for bit); [] when all agree. */
export function tiedCopyMismatches(weights: WeightBytes[]): string[] {
  const originals = new Map(weights.filter((w) => !w.tiedCopy).map((w) => [w.name, w.data]));
  return weights
    .filter((w) => w.tiedCopy)
    .filter((copy) => {
      const original = originals.get(copy.name);
      return !original || Buffer.compare(bytesOf(original), bytesOf(copy.data)) !== 0;
    })
    .map((copy) => copy.name);
}

function bytesOf(data: Float32Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
