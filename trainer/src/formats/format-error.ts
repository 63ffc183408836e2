// A model file (safetensors, tfjs-layers, Hugging Face) that pipetrain cannot use: the message names
// the file and the fix. The CLI prints it as one line; a stage exits with "invalid job".
import { DataError } from '../data/dataset.ts';

export class FormatError extends DataError {
  override readonly name = 'FormatError';
}
