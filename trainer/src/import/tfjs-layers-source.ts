// spec.model.from.tfjsLayers: a model.json that tf.LayersModel.save wrote, read by tfjs-layers
// itself (formats/tfjs-layers.ts maps its layers onto ours and refuses the others by class name).
// Its checksum covers model.json and every weight file it lists, in manifest order.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TensorRecord } from '../checkpoint/types.ts';
import { FormatError } from '../formats/format-error.ts';
import { readTfjsLayers } from '../formats/tfjs-layers.ts';
import { inMemorySource, ModelSourceError, type WeightSource } from './weight-source.ts';

const FIELD = 'spec.model.from.tfjsLayers';

export async function openTfjsLayersSource(modelJsonPath: string): Promise<WeightSource> {
  let model: Awaited<ReturnType<typeof readTfjsLayers>>;
  try {
    model = await readTfjsLayers(modelJsonPath);
  } catch (error) {
    if (error instanceof FormatError) throw new ModelSourceError(`${FIELD}: ${error.message}`);
    throw error;
  }
  const weights = new Map<string, TensorRecord>(model.weights.flat().map((w) => [w.name, { name: w.name, shape: [...w.shape], data: w.data }]));
  const source = { kind: 'tfjsLayers' as const, where: modelJsonPath, checksum: await filesChecksum(modelJsonPath), inputShape: model.inputShape, layers: model.layers };
  return inMemorySource(source, weights);
}

/** SHA-256 over model.json and the weight files it lists (already read once, so they exist). */
async function filesChecksum(modelJsonPath: string): Promise<string> {
  const hash = createHash('sha256');
  const json = await readFile(modelJsonPath);
  hash.update(json);
  const manifest = (JSON.parse(json.toString('utf8')) as { weightsManifest: { paths: string[] }[] }).weightsManifest;
  for (const path of manifest.flatMap((group) => group.paths)) hash.update(await readFile(join(dirname(modelJsonPath), path)));
  return hash.digest('hex');
}
