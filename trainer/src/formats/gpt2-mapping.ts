// Our GPT layers ↔ Hugging Face's GPT-2 (GPT2LMHeadModel), both directions from one table.
//
// Our model, expanded: embedding (wte), positionalEmbedding (wpe), transformerBlock × n_layer (h.N),
// layerNormalization (ln_f), lmHead (tied to wte, or lm_head). Our block is GPT-2's exactly:
// pre-LayerNorm with epsilon 1e-5, causal attention scaled by 1/√(head size) with q|k|v fused in one
// [in, 3·in] kernel (c_attn), GELU with the tanh approximation (gelu_new), and every kernel stored
// [in, out], which is GPT-2's Conv1D layout, so kernels copy unchanged. GPT-2 always has biases and
// LayerNorm offsets: a model without them exports zeros. An untied head is a [width, vocab] kernel;
// lm_head.weight is nn.Linear's [vocab, width], its transpose.
//
// What GPT-2's config cannot say (our useBias, ln_f's center, the training window) travels in
// config.json under "pipetrain", so that export then import gives back the same layers.
import type { LayerSpec } from '../api/schema.ts';
import { FormatError } from './format-error.ts';
import type { NamedTensor } from './safetensors.ts';
import type { LayersAndWeights } from './tfjs-layers.ts';

/** GPT-2's LayerNorm epsilon, which our transformer blocks use. */
export const GPT2_EPSILON = 1e-5;
/** save_pretrained's names: the body under `transformer.`, the untied head as `lm_head.weight`. */
const PREFIX = 'transformer.';

/** Layer kinds only a GPT has (tfjs-layers cannot take them). */
const GPT_ONLY = new Set<string>(['embedding', 'positionalEmbedding', 'transformerBlock', 'lmHead']);

type Block = Extract<LayerSpec, { type: 'transformerBlock' }>;

/** One block weight: GPT-2's name under h.N, ours under layer<i>_transformerBlock/, and its shape from (width, hidden). */
interface BlockTensor {
  gpt2: string;
  ours: string;
  shape: (width: number, hidden: number) => number[];
  /** Absent from our model when useBias is false (exported as zeros). */
  bias?: true;
}

const BLOCK_TENSORS: BlockTensor[] = [
  { gpt2: 'ln_1.weight', ours: 'ln1/gamma', shape: (w) => [w] },
  { gpt2: 'ln_1.bias', ours: 'ln1/beta', shape: (w) => [w], bias: true },
  { gpt2: 'attn.c_attn.weight', ours: 'attention/qkv/kernel', shape: (w) => [w, 3 * w] },
  { gpt2: 'attn.c_attn.bias', ours: 'attention/qkv/bias', shape: (w) => [3 * w], bias: true },
  { gpt2: 'attn.c_proj.weight', ours: 'attention/projection/kernel', shape: (w) => [w, w] },
  { gpt2: 'attn.c_proj.bias', ours: 'attention/projection/bias', shape: (w) => [w], bias: true },
  { gpt2: 'ln_2.weight', ours: 'ln2/gamma', shape: (w) => [w] },
  { gpt2: 'ln_2.bias', ours: 'ln2/beta', shape: (w) => [w], bias: true },
  { gpt2: 'mlp.c_fc.weight', ours: 'mlp/fc/kernel', shape: (w, h) => [w, h] },
  { gpt2: 'mlp.c_fc.bias', ours: 'mlp/fc/bias', shape: (_, h) => [h], bias: true },
  { gpt2: 'mlp.c_proj.weight', ours: 'mlp/projection/kernel', shape: (w, h) => [h, w] },
  { gpt2: 'mlp.c_proj.bias', ours: 'mlp/projection/bias', shape: (w) => [w], bias: true },
];

/** GPT-2 buffers some files carry (the causal mask): not weights, ignored when reading. */
const BUFFERS = /^h\.\d+\.attn\.(masked_)?bias$/;

/** What config.json says beyond GPT-2's own keys. */
export interface PipetrainHints {
  useBias: boolean;
  finalLayerNormCenter: boolean;
  /** spec.model.inputShape[0]: the training window (n_positions may be longer). */
  window: number;
}

export interface Gpt2Files {
  /** config.json's GPT-2 keys plus `pipetrain` (the hints and whatever the caller adds). */
  config: Record<string, unknown>;
  /** model.safetensors' tensors, in GPT-2's order. */
  tensors: NamedTensor[];
}

/** Where errors point: the two files of a GPT-2 directory. */
export interface Gpt2Sources {
  config: string;
  weights: string;
}

/** The GPT layout of `layers`, or a sentence saying why it is not one (naming the layer). */
function gptLayout(layers: readonly LayerSpec[]): { blocks: Block[]; width: number; vocab: number } | string {
  const kinds = layers.map((l) => l.type);
  const n = layers.length;
  const blockIndices = kinds.map((k, i) => (k === 'transformerBlock' ? i : -1)).filter((i) => i >= 0);
  const shape = 'embedding, positionalEmbedding, transformerBlock (any repeat), layerNormalization, lmHead';
  if (n < 5 || kinds[0] !== 'embedding' || kinds[1] !== 'positionalEmbedding' || kinds[n - 2] !== 'layerNormalization' || kinds[n - 1] !== 'lmHead' || blockIndices.length !== n - 4 || blockIndices[0] !== 2) {
    const odd = kinds.findIndex((k, i) => (i === 0 ? k !== 'embedding' : i === 1 ? k !== 'positionalEmbedding' : i === n - 1 ? k !== 'lmHead' : i === n - 2 ? k !== 'layerNormalization' : k !== 'transformerBlock'));
    return `it is not a GPT (${odd >= 0 ? `layer ${odd} is ${kinds[odd]}` : `it has ${n} layers`}; GPT-2 is exactly ${shape})`;
  }
  const embedding = layers[0] as Extract<LayerSpec, { type: 'embedding' }>;
  const blocks = layers.slice(2, n - 2) as Block[];
  const first = blocks[0]!;
  for (const [offset, block] of blocks.entries()) {
    for (const key of ['heads', 'mlpRatio', 'useBias', 'dropout'] as const) {
      if (block[key] !== first[key]) return `transformer block ${offset} (layer ${offset + 2}) has ${key} ${String(block[key])}, block 0 has ${String(first[key])}; GPT-2's config has one value for every block`;
    }
  }
  const norm = layers[n - 2] as Extract<LayerSpec, { type: 'layerNormalization' }>;
  if (norm.epsilon !== GPT2_EPSILON) return `the final layerNormalization (layer ${n - 2}) has epsilon ${norm.epsilon}; GPT-2 uses ${GPT2_EPSILON} in every LayerNorm, as our blocks do: train with epsilon: ${GPT2_EPSILON}`;
  const head = layers[n - 1] as Extract<LayerSpec, { type: 'lmHead' }>;
  if (!head.tied && head.vocabSize !== undefined && head.vocabSize !== embedding.vocabSize) return `the lmHead (layer ${n - 1}) has ${head.vocabSize} logits but the embedding ${embedding.vocabSize} tokens; GPT-2 has one vocab_size`;
  if (embedding.vocabSize === undefined) return 'the embedding has no resolved vocabSize';
  return { blocks, width: embedding.units, vocab: embedding.vocabSize };
}

/** Why `layers` cannot be exported as GPT-2, or undefined when it can. */
export function gpt2Incompatibility(layers: readonly LayerSpec[]): string | undefined {
  const layout = gptLayout(layers);
  return typeof layout === 'string' ? layout : undefined;
}

/** Our GPT → GPT-2's config and tensors. Throws a FormatError (naming the layer) for a model GPT-2 cannot express. */
export function encodeGpt2(model: LayersAndWeights, extra: Record<string, unknown> = {}): Gpt2Files {
  const layout = gptLayout(model.layers);
  if (typeof layout === 'string') throw new FormatError(`--format huggingface exports GPT models only, and ${layout}; export with --format safetensors${model.layers.some((l) => GPT_ONLY.has(l.type)) ? '' : ' or tfjs-layers'} instead`);
  const { blocks, width, vocab } = layout;
  const n = model.layers.length;
  const block = blocks[0]!;
  const hidden = block.mlpRatio * width;
  const positional = model.layers[1] as Extract<LayerSpec, { type: 'positionalEmbedding' }>;
  const norm = model.layers[n - 2] as Extract<LayerSpec, { type: 'layerNormalization' }>;
  const head = model.layers[n - 1] as Extract<LayerSpec, { type: 'lmHead' }>;
  const ours = (layer: number, suffix: string): NamedTensor | undefined => model.weights[layer]?.find((w) => w.name.endsWith(`/${suffix}`));
  const required = (layer: number, suffix: string): NamedTensor => {
    const tensor = ours(layer, suffix);
    if (!tensor) throw new FormatError(`layer ${layer} (${model.layers[layer]!.type}) has no weight ${suffix}`);
    return tensor;
  };
  const zeros = (shape: number[]) => new Float32Array(shape.reduce((a, b) => a * b, 1));
  const tensors: NamedTensor[] = [];
  const add = (name: string, shape: number[], data: Float32Array) => tensors.push({ name: `${PREFIX}${name}`, shape, data });
  add('wte.weight', [vocab, width], required(0, 'embeddings').data);
  add('wpe.weight', [positional.maxLength, width], required(1, 'embeddings').data);
  blocks.forEach((_, b) => {
    for (const entry of BLOCK_TENSORS) {
      const shape = entry.shape(width, hidden);
      add(`h.${b}.${entry.gpt2}`, shape, entry.bias && !block.useBias ? zeros(shape) : required(b + 2, entry.ours).data);
    }
  });
  add('ln_f.weight', [width], required(n - 2, 'gamma').data);
  add('ln_f.bias', [width], norm.center ? required(n - 2, 'beta').data : zeros([width]));
  if (!head.tied) tensors.push({ name: 'lm_head.weight', shape: [vocab, width], data: transpose(required(n - 1, 'kernel').data, width, vocab) });
  const hints: PipetrainHints = { useBias: block.useBias, finalLayerNormCenter: norm.center, window: model.inputShape[0]! };
  const config = {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: vocab,
    n_positions: positional.maxLength,
    n_ctx: positional.maxLength,
    n_embd: width,
    n_layer: blocks.length,
    n_head: block.heads,
    n_inner: hidden,
    activation_function: 'gelu_new',
    resid_pdrop: block.dropout,
    embd_pdrop: positional.dropout,
    attn_pdrop: block.dropout,
    layer_norm_epsilon: GPT2_EPSILON,
    initializer_range: 0.02,
    scale_attn_weights: true,
    scale_attn_by_inverse_layer_idx: false,
    reorder_and_upcast_attn: false,
    tie_word_embeddings: head.tied,
    use_cache: true,
    torch_dtype: 'float32',
    pipetrain: { ...hints, ...extra },
  };
  return { config, tensors };
}

/**
 * GPT-2's config and tensors → our layers (repeated blocks expanded, one per h.N) and their weights
 * under our names. Errors name the file and the fix.
 */
export function decodeGpt2(rawConfig: unknown, tensors: readonly NamedTensor[], where: Gpt2Sources): LayersAndWeights {
  const config = readConfig(rawConfig, where.config);
  const byName = new Map<string, NamedTensor>();
  for (const tensor of tensors) {
    const name = tensor.name.startsWith(PREFIX) ? tensor.name.slice(PREFIX.length) : tensor.name;
    if (BUFFERS.test(name)) continue;
    byName.set(name, tensor);
  }
  const used = new Set<string>();
  const take = (name: string, shape: number[]): Float32Array => {
    const tensor = byName.get(name);
    if (!tensor) throw new FormatError(`${where.weights}: tensor ${name} is missing (${where.config} describes ${config.layers} blocks of width ${config.width}); is the file from this config?`);
    if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
      throw new FormatError(`${where.weights}: tensor ${name} has shape [${tensor.shape.join(', ')}], but ${where.config} implies [${shape.join(', ')}]`);
    }
    used.add(name);
    return tensor.data;
  };
  const { width, hidden, vocab, hints } = config;
  const lastBlock = 2 + config.layers;
  const layers: LayerSpec[] = [
    { type: 'embedding', units: width, vocabSize: vocab },
    { type: 'positionalEmbedding', maxLength: config.positions, dropout: config.embeddingDropout },
    ...Array.from({ length: config.layers }, (): LayerSpec => ({ type: 'transformerBlock', heads: config.heads, repeat: 1, mlpRatio: hidden / width, dropout: config.dropout, useBias: hints.useBias })),
    { type: 'layerNormalization', epsilon: GPT2_EPSILON, center: hints.finalLayerNormCenter },
    config.tied ? { type: 'lmHead', tied: true } : { type: 'lmHead', tied: false, vocabSize: vocab },
  ];
  const named = (layer: number, suffix: string, shape: number[], data: Float32Array): NamedTensor => ({ name: `layer${layer}_${layers[layer]!.type}/${suffix}`, shape, data });
  const weights: NamedTensor[][] = layers.map(() => []);
  weights[0] = [named(0, 'embeddings', [vocab, width], take('wte.weight', [vocab, width]))];
  weights[1] = [named(1, 'embeddings', [config.positions, width], take('wpe.weight', [config.positions, width]))];
  for (let b = 0; b < config.layers; b++) {
    const layer = 2 + b;
    for (const entry of BLOCK_TENSORS) {
      const shape = entry.shape(width, hidden);
      const data = take(`h.${b}.${entry.gpt2}`, shape);
      if (!entry.bias || hints.useBias) weights[layer]!.push(named(layer, entry.ours, shape, data));
    }
  }
  weights[lastBlock] = [named(lastBlock, 'gamma', [width], take('ln_f.weight', [width]))];
  const beta = take('ln_f.bias', [width]);
  if (hints.finalLayerNormCenter) weights[lastBlock]!.push(named(lastBlock, 'beta', [width], beta));
  if (!config.tied) weights[lastBlock + 1] = [named(lastBlock + 1, 'kernel', [width, vocab], transpose(take('lm_head.weight', [vocab, width]), vocab, width))];
  else if (byName.has('lm_head.weight')) used.add('lm_head.weight'); // a tied head saved anyway: the same values as wte
  const unknown = [...byName.keys()].filter((name) => !used.has(name));
  if (unknown.length > 0) throw new FormatError(`${where.weights}: tensor${unknown.length > 1 ? 's' : ''} ${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? ', …' : ''} ${unknown.length > 1 ? 'are' : 'is'} not part of a GPT-2 of ${where.config}'s shape`);
  return { inputShape: [hints.window], layers, weights };
}

interface Gpt2Shape {
  width: number;
  layers: number;
  heads: number;
  hidden: number;
  vocab: number;
  positions: number;
  tied: boolean;
  dropout: number;
  embeddingDropout: number;
  hints: PipetrainHints;
}

/** The GPT-2 config keys we use, checked; HF's defaults where a key may be left out. */
function readConfig(raw: unknown, file: string): Gpt2Shape {
  const fail = (why: string): never => {
    throw new FormatError(`${file}: ${why}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('is not a JSON object');
  const config = raw as Record<string, unknown>;
  const count = (key: string, fallback?: number): number => {
    const value = config[key] ?? fallback;
    if (!Number.isSafeInteger(value) || (value as number) < 1) fail(`${key} ${JSON.stringify(config[key])} is not a positive integer${fallback === undefined ? ' (a GPT-2 config.json has it)' : ''}`);
    return value as number;
  };
  const rate = (key: string): number => {
    const value = config[key] ?? 0.1;
    if (typeof value !== 'number' || !(value >= 0 && value < 1)) fail(`${key} ${JSON.stringify(value)} is not a rate in [0, 1)`);
    return value as number;
  };
  if (config.model_type !== undefined && config.model_type !== 'gpt2') fail(`model_type is ${JSON.stringify(config.model_type)}; pipetrain imports GPT-2 models (model_type "gpt2") only`);
  const activation = config.activation_function ?? 'gelu_new';
  if (activation !== 'gelu_new' && activation !== 'gelu_pytorch_tanh') fail(`activation_function ${JSON.stringify(activation)} is not GELU with the tanh approximation (gelu_new), the only one our transformer block has`);
  const epsilon = config.layer_norm_epsilon ?? GPT2_EPSILON;
  if (epsilon !== GPT2_EPSILON) fail(`layer_norm_epsilon ${JSON.stringify(epsilon)}: our transformer blocks use GPT-2's ${GPT2_EPSILON} only`);
  if (config.scale_attn_weights === false) fail('scale_attn_weights is false; our attention always scales by 1/√(head size)');
  if (config.scale_attn_by_inverse_layer_idx === true) fail('scale_attn_by_inverse_layer_idx is true; our attention does not scale by layer');
  if (config.add_cross_attention === true) fail('add_cross_attention is true; pipetrain has decoder-only GPTs');
  const width = count('n_embd');
  const heads = count('n_head');
  if (width % heads !== 0) fail(`n_embd ${width} is not divisible by n_head ${heads}`);
  const hidden = config.n_inner === null || config.n_inner === undefined ? 4 * width : count('n_inner');
  if (hidden % width !== 0) fail(`n_inner ${hidden} is not a multiple of n_embd ${width}; our blocks' MLP width is mlpRatio × width`);
  const positions = count('n_positions', config.n_ctx as number | undefined);
  const tied = config.tie_word_embeddings ?? true;
  if (typeof tied !== 'boolean') fail('tie_word_embeddings is not true or false');
  const hints = (config.pipetrain ?? {}) as Partial<Record<keyof PipetrainHints, unknown>>;
  const window = hints.window ?? positions;
  if (!Number.isSafeInteger(window) || (window as number) < 1 || (window as number) > positions) fail(`pipetrain.window ${JSON.stringify(hints.window)} is not a token count in 1..n_positions (${positions})`);
  return {
    width, heads, hidden, positions, tied: tied as boolean,
    layers: count('n_layer'), vocab: count('vocab_size'),
    dropout: rate('resid_pdrop'), embeddingDropout: rate('embd_pdrop'),
    hints: { useBias: hints.useBias !== false, finalLayerNormCenter: hints.finalLayerNormCenter !== false, window: window as number },
  };
}

/** [rows, columns] → [columns, rows], row-major. */
function transpose(data: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = data[r * columns + c]!;
  return out;
}
