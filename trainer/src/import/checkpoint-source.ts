// spec.model.from.checkpoint: another job's committed checkpoint as a weight source. Its layers are
// the model description stage 0 stored in its manifest; its checksum is the SHA-256 of the commit
// record (which holds every manifest's, and so every layer file's, checksum). Any partition wrote
// it: the store is per layer, so `read` loads exactly the layer files asked for, verified.
import { z } from 'zod';
import { ModelSchema } from '../api/model-schema.ts';
import { COMMIT_FILE, listCheckpoints, loadLatestCommitted, type Log, type TensorRecord } from '../checkpoint/index.ts';
import { stepDir } from '../checkpoint/layout.ts';
import { CommitRecordSchema, readJsonFile } from '../checkpoint/manifest.ts';
import { TokenizerSpecSchema } from '../data/token-shards.ts';
import { expandLayers } from '../model/expand.ts';
import { ModelSourceError, type WeightSource } from './weight-source.ts';

const DescriptionSchema = z.object({ model: ModelSchema, seed: z.number(), optimizer: z.string(), tokenizer: TokenizerSpecSchema.optional() });
const FIELD = 'spec.model.from.checkpoint';

export async function openCheckpointSource(dir: string, options: { step?: number; log: Log }): Promise<WeightSource> {
  const step = await pickStep(dir, options.step);
  const where = `${dir} (step ${step})`;
  // No layers asked: every layer file is still verified, and stage 0's manifest gives the model.
  const head = await loadLatestCommitted(dir, { layers: [], step, log: options.log });
  if (!head) throw new ModelSourceError(`${FIELD}: checkpoint step ${step} in ${dir} does not verify (see the warnings above); pick another step or train the source job again`);
  const described = DescriptionSchema.safeParse(head.model);
  if (!described.success) {
    throw new ModelSourceError(`${FIELD}: checkpoint step ${step} in ${dir} does not describe its model (written by an older pipetrain); train the source job again with this version`);
  }
  const record = await readJsonFile(stepDir(dir, step), COMMIT_FILE, CommitRecordSchema).catch((error: Error) => {
    throw new ModelSourceError(`${FIELD}: ${error.message}`);
  });
  const layerCount = expandLayers(described.data.model.layers).layers.length;
  return {
    kind: 'checkpoint',
    where,
    checksum: record.sha256,
    inputShape: described.data.model.inputShape,
    layers: described.data.model.layers,
    ...(described.data.tokenizer ? { tokenizer: described.data.tokenizer } : {}),
    optimizer: { type: head.optimizer.type, scalars: head.optimizer.scalars },
    async read(layerIndices, readOptions = {}) {
      const outside = layerIndices.filter((i) => i < 0 || i >= layerCount);
      if (outside.length > 0) throw new ModelSourceError(`${FIELD}: ${where} has ${layerCount} layers, not layer(s) ${outside.join(', ')}`);
      const loaded = await loadLatestCommitted(dir, { layers: layerIndices, step, log: options.log });
      if (!loaded) throw new ModelSourceError(`${FIELD}: checkpoint step ${step} in ${dir} no longer verifies (see the warnings above)`);
      const weights = new Map<string, TensorRecord>();
      const slots = new Map<string, TensorRecord>();
      for (const layer of loaded.layers.values()) {
        for (const w of layer.weights) weights.set(w.name, w);
        if (readOptions.slots) for (const s of layer.slots) slots.set(s.name, s);
      }
      return { weights, slots };
    },
  };
}

/** The step asked for, or the newest committed one; a clear error when there is none. */
async function pickStep(dir: string, step: number | undefined): Promise<number> {
  const committed = await listCheckpoints(dir, { verify: false });
  if (committed.length === 0) {
    throw new ModelSourceError(`${FIELD}.path: ${dir} holds no committed checkpoint; give the spec.checkpoint.path of a job that has saved one`);
  }
  if (step === undefined) return committed.find((c) => c.verified)?.step ?? committed[0]!.step;
  if (!committed.some((c) => c.step === step)) {
    throw new ModelSourceError(`${FIELD}.step: ${dir} has no committed checkpoint of step ${step}; committed steps: ${committed.map((c) => c.step).join(', ')}`);
  }
  return step;
}
