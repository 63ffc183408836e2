// The error for an impossible model shape, and how shapes are printed in messages.

/** An impossible shape at `layerIndex` (0-based index into the expanded layers; see model/expand.ts). */
export class ShapeError extends Error {
  readonly layerIndex: number;
  /** The layer's field at fault, when one is (e.g. 'heads'). */
  readonly field: string | undefined;
  constructor(layerIndex: number, message: string, field?: string) {
    super(message);
    this.name = 'ShapeError';
    this.layerIndex = layerIndex;
    this.field = field;
  }
}

export function formatShape(shape: number[]): string {
  return `[${shape.join(', ')}]`;
}
