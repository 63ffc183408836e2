// In-memory datasets: features as one flat float32 array, labels as class indices or target vectors.

export interface Dataset {
  /** count × product(featureShape) values, sample-major. */
  features: Float32Array;
  featureShape: number[];
  /** count × product(labelShape) values: class indices when labelShape is [], regression targets otherwise. */
  labels: Float32Array;
  labelShape: number[];
  count: number;
  /** Number of classes for classification data; 0 for regression targets. */
  classes: number;
}

export interface SplitDataset {
  train: Dataset;
  validation: Dataset;
}

/** Thrown for data problems that retrying cannot fix (missing file, bad row): a permanent failure. */
export class DataError extends Error {}

export function sampleSize(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Copies the given samples (by index) into a new, contiguous dataset. */
export function selectSamples(data: Dataset, indices: ArrayLike<number>): Dataset {
  const featureSize = sampleSize(data.featureShape);
  const labelSize = sampleSize(data.labelShape);
  const features = new Float32Array(indices.length * featureSize);
  const labels = new Float32Array(indices.length * labelSize);
  for (let i = 0; i < indices.length; i++) {
    const source = indices[i]!;
    features.set(data.features.subarray(source * featureSize, (source + 1) * featureSize), i * featureSize);
    labels.set(data.labels.subarray(source * labelSize, (source + 1) * labelSize), i * labelSize);
  }
  return { ...data, features, labels, count: indices.length };
}
