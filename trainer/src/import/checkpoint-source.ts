// spec.model.from.checkpoint: another job's committed checkpoint as a weight source. Its layers are
// the model description stage 0 stored in its manifest; its checksum is the SHA-256 of the commit
// record (which holds every manifest's, and so every layer file's, checksum). Any partition wrote
// it: the store is per layer, so `read` loads exactly the layer files asked for, verified.
// Opening reads only the commit record and the manifests (checked against the record) and the
// layer files' sizes: every stage opens the source before the resume agreement's timeout, and
// hashing a large source's every layer there would exceed it. Each stage hashes the layers it reads.
import path from 'node:path';
import { z } from 'zod';
import { ModelSchema } from '../api/model-schema.ts';
import { listCheckpoints, type Log, type TensorRecord } from '../checkpoint/index.ts';
import { decodeLayer } from '../checkpoint/format.ts';
import { layerFileName, stepDir } from '../checkpoint/layout.ts';
import { verifyCommitted, type CommittedStep, type VerifyMode } from '../checkpoint/verify.ts';
import { TokenizerSpecSchema } from '../data/token-shards.ts';
import { expandLayers } from '../model/expand.ts';
import { ModelSourceError, type WeightSource } from './weight-source.ts';

const DescriptionSchema = z.object({ model: ModelSchema, seed: z.number(), optimizer: z.string(), tokenizer: TokenizerSpecSchema.optional() });
const FIELD = 'spec.model.from.checkpoint';

/**
 * `verify: 'full'` also hashes every layer file when picking the step: the CLI's check, which has
 * no timeout, so it finds the newest step that verifies in full. Default 'sizes' (stages).
 */
export async function openCheckpointSource(dir: string, options: { step?: number; log: Log; verify?: VerifyMode }): Promise<WeightSource> {
  const { step, committed } = await pickStep(dir, options.step, options.log, options.verify ?? 'sizes');
  const where = `${dir} (step ${step})`;
  const head = committed.manifests[0]!;
  const described = DescriptionSchema.safeParse(head.model);
  if (!described.success) {
    throw new ModelSourceError(`${FIELD}: checkpoint step ${step} in ${dir} does not describe its model (written by an older pipetrain); train the source job again with this version`);
  }
  const layerCount = expandLayers(described.data.model.layers).layers.length;
  return {
    kind: 'checkpoint',
    where,
    checksum: committed.recordSha256,
    inputShape: described.data.model.inputShape,
    layers: described.data.model.layers,
    ...(described.data.tokenizer ? { tokenizer: described.data.tokenizer } : {}),
    optimizer: { type: head.optimizer.type, scalars: head.optimizer.scalars },
    async read(layerIndices, readOptions = {}) {
      const outside = layerIndices.filter((i) => i < 0 || i >= layerCount);
      if (outside.length > 0) throw new ModelSourceError(`${FIELD}: ${where} has ${layerCount} layers, not layer(s) ${outside.join(', ')}`);
      // The asked layers are hashed from the bytes decoded; the others only checked for their size.
      const loaded = await verifyCommitted(dir, step, 'sizes', new Set(layerIndices));
      if (loaded.problems.length > 0 || loaded.recordSha256 !== committed.recordSha256) {
        throw new ModelSourceError(`${FIELD}: checkpoint step ${step} in ${dir} no longer verifies: ${loaded.problems.join('; ') || 'its commit record changed'}`);
      }
      const weights = new Map<string, TensorRecord>();
      const slots = new Map<string, TensorRecord>();
      for (const [index, bytes] of loaded.contents) {
        const layer = decodeSourceLayer(path.join(stepDir(dir, step), layerFileName(index)), bytes, index);
        for (const w of layer.weights) weights.set(w.name, w);
        if (readOptions.slots) for (const s of layer.slots) slots.set(s.name, s);
      }
      return { weights, slots };
    },
  };
}

function decodeSourceLayer(file: string, bytes: Buffer, index: number): ReturnType<typeof decodeLayer> {
  try {
    const layer = decodeLayer(bytes);
    if (layer.layerIndex !== index) throw new Error(`holds layer ${layer.layerIndex}`);
    return layer;
  } catch (error) {
    throw new ModelSourceError(`${FIELD}: ${file}: ${(error as Error).message}`);
  }
}

/**
 * The step asked for, or the newest committed one that verifies (commit record, manifests, layer
 * sizes, and with 'full' the layer hashes; newest first, as docs/fine-tuning.md says); a clear
 * error when there is none.
 */
async function pickStep(dir: string, step: number | undefined, log: Log, mode: VerifyMode): Promise<{ step: number; committed: CommittedStep & { recordSha256: string } }> {
  const listed = await listCheckpoints(dir, { verify: false });
  if (listed.length === 0) {
    throw new ModelSourceError(`${FIELD}.path: ${dir} holds no committed checkpoint; give the spec.checkpoint.path of a job that has saved one`);
  }
  if (step !== undefined && !listed.some((c) => c.step === step)) {
    throw new ModelSourceError(`${FIELD}.step: ${dir} has no committed checkpoint of step ${step}; committed steps: ${listed.map((c) => c.step).join(', ')}`);
  }
  const candidates = step === undefined ? listed.map((c) => c.step) : [step];
  const skipped: string[] = [];
  for (const candidate of candidates) {
    const committed = await verifyCommitted(dir, candidate, mode);
    if (committed.problems.length === 0 && committed.record && committed.recordSha256 !== undefined) {
      return { step: candidate, committed: { ...committed, recordSha256: committed.recordSha256 } };
    }
    skipped.push(`step ${candidate}: ${committed.problems.join('; ')}`);
    if (step === undefined) log('warn', `${FIELD}: checkpoint step ${candidate} in ${dir} skipped: ${committed.problems.join('; ')}`, { step: candidate });
  }
  const fix = step === undefined ? 'train the source job again' : 'pick another step or train the source job again';
  throw new ModelSourceError(`${FIELD}: no checkpoint in ${dir} verifies (${skipped.join(' | ')}); ${fix}`);
}
