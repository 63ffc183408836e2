// The weights digest of a committed checkpoint: the same SHA-256 `pipetrain train --json` reports
// (every trainable weight in model layer order, little-endian float32), computed from the files.
// This is how a job run elsewhere (e.g. as pods on Kubernetes) is compared with a local run.
import { weightsDigest } from '../train/digest.ts';
import { listCheckpoints } from './list.ts';
import { loadLatestCommitted } from './reader.ts';

/** Digest and step of the newest committed checkpoint that verifies; undefined when there is none. */
export async function checkpointWeightsDigest(dir: string): Promise<{ step: number; weightsSha256: string } | undefined> {
  const [newest] = await listCheckpoints(dir, { verify: false });
  if (!newest) return undefined;
  const layerCount = newest.partition.reduce((a, b) => a + b, 0);
  const loaded = await loadLatestCommitted(dir, { layers: [...Array(layerCount).keys()] });
  if (!loaded) return undefined;
  const weights = [...loaded.layers.values()]
    .sort((a, b) => a.layerIndex - b.layerIndex)
    .flatMap((layer) => layer.weights.map((w) => ({ name: w.name, layerIndex: layer.layerIndex, data: w.data })));
  return { step: loaded.step, weightsSha256: weightsDigest(weights) };
}
