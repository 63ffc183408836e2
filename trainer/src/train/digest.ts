// The weights digest: SHA-256 over every trainable weight in model layer order, as little-endian
// float32 bytes. It does not depend on the partition, so runs can be compared by digest alone.
import { createHash } from 'node:crypto';

export interface WeightBytes {
  name: string;
  /** Index of the layer the weight belongs to: the digest sorts by it, then by position within the layer. */
  layerIndex: number;
  data: Float32Array;
}

export function weightsDigest(weights: WeightBytes[]): string {
  const hash = createHash('sha256');
  const ordered = weights.map((w, position) => ({ w, position })).sort((a, b) => a.w.layerIndex - b.w.layerIndex || a.position - b.position);
  for (const { w } of ordered) hash.update(littleEndianBytes(w.data));
  return hash.digest('hex');
}

function littleEndianBytes(data: Float32Array): Uint8Array {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  return bytes;
}
