// The TensorFlow.js Layers format (`tf.LayersModel.save`): model.json (`modelTopology` plus a
// `weightsManifest`) and its weight files. Both directions go through tfjs-layers itself, so what we
// write is what `tf.loadLayersModel` reads, and what we read is what it accepts.
//
// Only layers tfjs-layers has are mapped: dense, conv2d, maxPooling2d, flatten, dropout,
// activation and layerNormalization (Embedding once the language-model layers map onto it). Any
// other layer is an error that names it.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Activation, LayerSpec } from '../api/schema.ts';
import { FormatError } from './format-error.ts';
import type { NamedTensor } from './safetensors.ts';

/** A model as pipetrain holds it: the layer list, and each layer's weights in layer order. */
export interface LayersAndWeights {
  inputShape: number[];
  layers: LayerSpec[];
  /** weights[i]: layer i's weights, named `layer<i>_<type>/<kernel|bias|gamma|beta>`. */
  weights: NamedTensor[][];
}

export interface TfjsLayersFiles {
  /** The parsed model.json. */
  modelJson: Record<string, unknown>;
  /** The one weights file model.json names (`weights.bin`). */
  weightsBin: Buffer;
}

export const WEIGHTS_FILE = 'weights.bin';
const ACTIVATIONS = new Set<string>(['linear', 'relu', 'sigmoid', 'tanh', 'softmax']);

/** Builds the tfjs-layers model of `model`, sets its weights and saves it in memory. */
export async function encodeTfjsLayers(model: LayersAndWeights, metadata: Record<string, string> = {}): Promise<TfjsLayersFiles> {
  // Every layer is mapped before any is built: an unsupported one leaves no half-built model behind.
  const kerasLayers = model.layers.map((spec, index) => toKerasLayer(spec, index, index === 0 ? model.inputShape : undefined));
  const sequential = tf.sequential({ name: 'pipetrain', layers: kerasLayers });
  sequential.layers.forEach((layer, index) => {
    const tensors = (model.weights[index] ?? []).map((w) => tf.tensor(w.data, w.shape));
    if (tensors.length !== layer.weights.length) throw new FormatError(`layer ${index} (${model.layers[index]!.type}): ${tensors.length} weights given, tfjs-layers expects ${layer.weights.length}`);
    layer.setWeights(tensors);
    tf.dispose(tensors);
  });
  sequential.setUserDefinedMetadata(metadata);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await sequential.save(tf.io.withSaveHandler(async (saved) => {
    artifacts = saved;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  sequential.dispose();
  const { modelTopology, weightSpecs, weightData, userDefinedMetadata } = artifacts!;
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: 'pipetrain export',
    modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: weightSpecs }],
    userDefinedMetadata,
  };
  return { modelJson, weightsBin: Buffer.from(tf.io.concatenateArrayBuffers([weightData as ArrayBuffer])) };
}

/** Reads model.json and its weight files from disk; every problem names the file. */
export async function readTfjsLayers(modelJsonPath: string): Promise<LayersAndWeights> {
  const raw = await readFile(modelJsonPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new FormatError(`${modelJsonPath}: ${error.code === 'ENOENT' ? 'missing' : `unreadable (${error.code})`}`);
  });
  let json: { modelTopology?: unknown; weightsManifest?: { paths?: unknown; weights?: unknown }[] };
  try {
    json = JSON.parse(raw) as typeof json;
  } catch {
    throw new FormatError(`${modelJsonPath}: not valid JSON; a tfjs-layers model.json is what tf.LayersModel.save writes`);
  }
  if (typeof json.modelTopology !== 'object' || json.modelTopology === null) throw new FormatError(`${modelJsonPath}: has no modelTopology; it is not a tfjs-layers model (a graph model from the converter cannot be fine-tuned here)`);
  if (!Array.isArray(json.weightsManifest)) throw new FormatError(`${modelJsonPath}: has no weightsManifest`);
  const folder = dirname(modelJsonPath);
  const buffers: Buffer[] = [];
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  for (const group of json.weightsManifest) {
    if (!Array.isArray(group.paths) || !Array.isArray(group.weights)) throw new FormatError(`${modelJsonPath}: a weightsManifest entry lacks paths or weights`);
    for (const path of group.paths as string[]) {
      const file = join(folder, path);
      buffers.push(await readFile(file).catch((error: NodeJS.ErrnoException) => {
        throw new FormatError(`${file}: ${error.code === 'ENOENT' ? 'missing (model.json lists it)' : `unreadable (${error.code})`}`);
      }));
    }
    weightSpecs.push(...(group.weights as tf.io.WeightsManifestEntry[]));
  }
  const weightData = tf.io.concatenateArrayBuffers(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer));
  return decodeTfjsLayers(json.modelTopology as object, weightSpecs, weightData, modelJsonPath);
}

/** Loads the artifacts with tfjs-layers and maps its layers onto pipetrain's. */
export async function decodeTfjsLayers(modelTopology: object, weightSpecs: tf.io.WeightsManifestEntry[], weightData: ArrayBuffer, where: string): Promise<LayersAndWeights> {
  for (const spec of weightSpecs) {
    if (spec.dtype !== undefined && spec.dtype !== 'float32') throw new FormatError(`${where}: weight ${spec.name} is ${spec.dtype}${spec.quantization ? ' (quantized)' : ''}; pipetrain reads float32 weights only`);
  }
  const expected = weightSpecs.reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (weightData.byteLength !== expected) throw new FormatError(`${where}: the weight files hold ${weightData.byteLength} bytes, the manifest describes ${expected}: a file is truncated or from another model`);
  let loaded: tf.LayersModel;
  try {
    loaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology, weightSpecs, weightData }));
  } catch (error) {
    throw new FormatError(`${where}: tfjs-layers cannot load it (${(error as Error).message.split('\n')[0]})`);
  }
  try {
    const layers = loaded.layers.filter((layer) => layer.getClassName() !== 'InputLayer');
    const inputShape = loaded.inputs[0]?.shape.slice(1);
    if (loaded.inputs.length !== 1 || !inputShape || inputShape.some((d) => d === null)) throw new FormatError(`${where}: pipetrain needs one input with a fixed shape; this model has ${loaded.inputs.map((i) => `[${i.shape.join(', ')}]`).join(', ')}`);
    const specs = layers.map((layer, index) => fromKerasLayer(layer.getClassName(), layer.getConfig() as Record<string, unknown>, (layer.input as tf.SymbolicTensor).shape.length, index, where));
    const weights = layers.map((layer, index) => {
      const names = weightNames(specs[index]!);
      return layer.getWeights().map((tensor, slot) => ({ name: `layer${index}_${specs[index]!.type}/${names[slot]}`, shape: tensor.shape, data: tensor.dataSync() as Float32Array }));
    });
    return { inputShape: inputShape as number[], layers: specs, weights };
  } finally {
    loaded.dispose();
  }
}

/** Our weight suffixes per layer kind, in the order tfjs-layers keeps them. */
function weightNames(spec: LayerSpec): string[] {
  switch (spec.type) {
    case 'dense':
    case 'conv2d':
      return spec.useBias ? ['kernel', 'bias'] : ['kernel'];
    case 'layerNormalization':
      return spec.center ? ['gamma', 'beta'] : ['gamma'];
    default:
      return [];
  }
}

function toKerasLayer(spec: LayerSpec, index: number, inputShape: number[] | undefined): tf.layers.Layer {
  const common = { name: `layer${index}_${spec.type}`, ...(inputShape ? { inputShape } : {}) };
  switch (spec.type) {
    case 'dense':
      return tf.layers.dense({ ...common, units: spec.units, activation: spec.activation, useBias: spec.useBias });
    case 'conv2d':
      return tf.layers.conv2d({ ...common, filters: spec.filters, kernelSize: spec.kernelSize, strides: spec.strides, padding: spec.padding, activation: spec.activation, useBias: spec.useBias });
    case 'maxPooling2d':
      return tf.layers.maxPooling2d({ ...common, poolSize: spec.poolSize, strides: spec.strides ?? spec.poolSize, padding: spec.padding });
    case 'flatten':
      return tf.layers.flatten(common);
    case 'dropout':
      return tf.layers.dropout({ ...common, rate: spec.rate });
    case 'activation':
      return tf.layers.activation({ ...common, activation: spec.activation });
    case 'layerNormalization':
      return tf.layers.layerNormalization({ ...common, epsilon: spec.epsilon, center: spec.center });
    default:
    {
      const type = (spec as { type: string }).type;
      const gpt = ['embedding', 'positionalEmbedding', 'transformerBlock', 'lmHead'].includes(type);
      throw new FormatError(`spec.model.layers[${index}]: a${/^[aeiou]/.test(type) ? 'n' : ''} ${type} layer has no tfjs-layers counterpart; export with --format safetensors${gpt ? ' or huggingface' : ''} instead`);
    }
  }
}

/** `config` is tfjs-layers' getConfig() (camelCase keys); `rank` is the layer's input rank with the batch axis. */
function fromKerasLayer(className: string, config: Record<string, unknown>, rank: number, index: number, where: string): LayerSpec {
  const name = `layer ${index} (${className} "${String(config.name)}")`;
  const refuse = (why: string): never => {
    throw new FormatError(`${where}: ${name}: ${why}`);
  };
  const activation = (): Activation => {
    const value = String(config.activation ?? 'linear');
    if (!ACTIVATIONS.has(value)) refuse(`activation "${value}" is not one pipetrain has (${[...ACTIVATIONS].join(', ')})`);
    return value as Activation;
  };
  const square = (key: string): number => {
    const value = config[key];
    const sides = Array.isArray(value) ? value : [value];
    if (!sides.every((s) => s === sides[0]) || typeof sides[0] !== 'number') refuse(`${key} ${JSON.stringify(value)} is not square; pipetrain has square windows only`);
    return sides[0] as number;
  };
  const padding = (): 'valid' | 'same' => {
    const value = String(config.padding ?? 'valid');
    if (value !== 'valid' && value !== 'same') refuse(`padding "${value}" is not supported (valid or same)`);
    return value as 'valid' | 'same';
  };
  const channelsLast = () => {
    if (config.dataFormat !== undefined && config.dataFormat !== 'channelsLast') refuse(`dataFormat ${String(config.dataFormat)} is not supported (channelsLast only)`);
  };
  switch (className) {
    case 'Dense':
      return { type: 'dense', units: Number(config.units), activation: activation(), useBias: config.useBias !== false };
    case 'Conv2D': {
      channelsLast();
      if (square('dilationRate') !== 1) refuse('dilated convolutions are not supported');
      return { type: 'conv2d', filters: Number(config.filters), kernelSize: square('kernelSize'), strides: square('strides'), padding: padding(), activation: activation(), useBias: config.useBias !== false };
    }
    case 'MaxPooling2D': {
      channelsLast();
      const poolSize = square('poolSize');
      const strides = config.strides === null || config.strides === undefined ? poolSize : square('strides');
      // Our default strides is the pool size: leave it out then, as a job file would.
      return { type: 'maxPooling2d', poolSize, ...(strides === poolSize ? {} : { strides }), padding: padding() };
    }
    case 'Flatten':
      return { type: 'flatten' };
    case 'Dropout':
      return { type: 'dropout', rate: Number(config.rate) };
    case 'Activation':
      return { type: 'activation', activation: activation() };
    case 'LayerNormalization': {
      const axis = Array.isArray(config.axis) ? config.axis : [config.axis];
      if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== rank - 1)) refuse(`axis ${JSON.stringify(config.axis)} is not supported (the last axis only)`);
      if (config.scale === false) refuse('scale must be on (pipetrain always learns the gain)');
      return { type: 'layerNormalization', epsilon: Number(config.epsilon ?? 1e-3), center: config.center !== false };
    }
    default:
      return refuse(`tfjs-layers class ${className} has no pipetrain counterpart (supported: Dense, Conv2D, MaxPooling2D, Flatten, Dropout, Activation, LayerNormalization)`);
  }
}
