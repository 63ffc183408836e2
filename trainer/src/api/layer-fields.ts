// Fields shared by several layer types of spec.model.layers.
import { z } from 'zod';

export const positiveInt = z.int().min(1);

export const layerName = z
  .string()
  .min(1)
  .max(63)
  .optional()
  .describe('name: optional label for logs and metrics. Default: "<type>_<index>".');

export const trainable = z
  .boolean()
  .optional()
  .describe('trainable: false freezes the layer: its weights keep their initial (or imported) values, get no gradients and no optimizer state. A tied lmHead follows its embedding. Default true, except for the first spec.training.freeze.layers layers.');

export const useBias = z.boolean().default(true).describe('useBias: add a learned bias vector. Default true.');

/** A dropout rate in [0, 1). */
export const dropoutRate = z.number().min(0).lt(1);
