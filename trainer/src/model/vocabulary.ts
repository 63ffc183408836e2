// Vocabulary sizes of a language model. `embedding.vocabSize` defaults to the tokens dataset's
// vocabulary, and an lmHead's to the embedding's, so a job file need not repeat what meta.json
// says. The spec is resolved once the data's vocabulary is known; everything after that (shapes,
// partitioning, the model hash in checkpoints) sees explicit sizes.
import type { LayerSpec } from '../api/schema.ts';

/** The vocabulary the model's layers state themselves (embedding first, then an lmHead), if any. */
export function statedVocabSize(layers: readonly LayerSpec[]): number | undefined {
  for (const layer of layers) if (layer.type === 'embedding' && layer.vocabSize !== undefined) return layer.vocabSize;
  for (const layer of layers) if (layer.type === 'lmHead' && layer.vocabSize !== undefined) return layer.vocabSize;
  return undefined;
}

/** True when some embedding or lmHead has no vocabSize yet. */
export function needsVocabulary(layers: readonly LayerSpec[]): boolean {
  return layers.some((layer) => (layer.type === 'embedding' || layer.type === 'lmHead') && layer.vocabSize === undefined);
}

/**
 * Fills in missing vocabulary sizes: the embedding's from `datasetVocab`, an lmHead's from the
 * embedding (a tied head always takes the embedding's). Sizes already given are kept (a mismatch
 * with the data is reported by the caller, which knows where the data came from).
 */
export function resolveVocabulary(layers: readonly LayerSpec[], datasetVocab: number | undefined): LayerSpec[] {
  const embedding = layers.find((layer) => layer.type === 'embedding');
  const embeddingVocab = embedding?.type === 'embedding' ? (embedding.vocabSize ?? datasetVocab) : undefined;
  return layers.map((layer) => {
    if (layer.type === 'embedding') return withSize(layer, layer.vocabSize ?? datasetVocab);
    if (layer.type === 'lmHead') return withSize(layer, layer.tied ? embeddingVocab : (layer.vocabSize ?? embeddingVocab ?? datasetVocab));
    return layer;
  });
}

function withSize<T extends LayerSpec & { vocabSize?: number }>(layer: T, vocabSize: number | undefined): T {
  return vocabSize === undefined ? layer : { ...layer, vocabSize };
}
