import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { runPython } from '../../../test/support/python.ts';
import { tinyGptJob } from '../../../test/support/gpt-jobs.ts';
import { tinyMlpJob } from '../../../test/support/tiny-jobs.ts';
import type { LayerSpec, PipelineJobSpec } from '../api/schema.ts';
import { jobLayers } from '../model/expand.ts';
import { buildLayers } from '../model/layers.ts';
import { initBackend } from '../tf/backend.ts';
import { FormatError } from './format-error.ts';
import { gpt2Incompatibility } from './gpt2-mapping.ts';
import { encodeHuggingfaceGpt2, HF_CONFIG, HF_WEIGHTS, readHuggingfaceGpt2 } from './huggingface.ts';
import type { LayersAndWeights } from './tfjs-layers.ts';

before(() => initBackend('cpu'));

const VOCAB = ['\n', ' ', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];
const metadata = { job: 'tiny-gpt', step: '4', checkpointSha256: 'ab'.repeat(32), pipetrainVersion: '0.1.0' };

/** A tiny GPT with pipetrain's seeded initial weights, as the export takes it (tied copies left out, as checkpoints do). */
function seededGpt(options: { tied: boolean; useBias: boolean }): LayersAndWeights {
  const spec = tinyGptJob('unused', { tied: options.tied }).model;
  const layers = spec.layers.map((layer): LayerSpec => {
    if (layer.type === 'embedding') return { ...layer, vocabSize: VOCAB.length };
    if (layer.type === 'lmHead') return { ...layer, vocabSize: VOCAB.length };
    if (layer.type === 'transformerBlock') return { ...layer, useBias: options.useBias };
    if (layer.type === 'layerNormalization') return { ...layer, center: options.useBias };
    return layer;
  });
  const model: PipelineJobSpec['model'] = { ...spec, layers };
  const built = buildLayers(model.inputShape, jobLayers({ model }), 5);
  const weights = built.map((layer) => layer.weights.filter((w) => !w.tiedCopy).map((w) => ({ name: w.name, shape: w.variable.shape, data: w.variable.dataSync() as Float32Array })));
  built.forEach((layer) => layer.weights.forEach((w) => w.variable.dispose()));
  return { inputShape: model.inputShape, layers: jobLayers({ model }), weights };
}

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'huggingface-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function writeExport(dir: string, model: LayersAndWeights): Promise<void> {
  for (const file of encodeHuggingfaceGpt2(model, { metadata, tokenizer: { type: 'char', vocab: VOCAB } })) await writeFile(join(dir, file.name), file.bytes);
}

const bits = (data: Float32Array) => [...new Uint32Array(data.buffer, data.byteOffset, data.length)];
const tensorsOf = (model: LayersAndWeights) => model.weights.map((ws) => ws.map((w) => [w.name, w.shape, bits(w.data)]));

for (const options of [{ tied: true, useBias: false }, { tied: false, useBias: true }]) {
  test(`export then read back (tied ${options.tied}, biases ${options.useBias}): the same layers and weights, bit for bit`, async (t) => {
    const dir = await tempDir(t);
    const model = seededGpt(options);
    await writeExport(dir, model);
    const back = await readHuggingfaceGpt2(dir);
    assert.deepEqual(tensorsOf(back), tensorsOf(model));
    assert.deepEqual(back.inputShape, model.inputShape);
    assert.deepEqual(back.layers.map((l) => l.type), model.layers.map((l) => l.type));
    assert.deepEqual(back.tokenizer, { type: 'char', vocab: VOCAB });
    assert.deepEqual(back.metadata, { format: 'pt', ...metadata });
  });
}

test('a GPT-2 directory in the Hugging Face hub\'s layout (no prefix, mask buffers, float16) is read; shapes follow config.json', async (t) => {
  const dir = await tempDir(t);
  await runPython(
    `import sys, json, numpy as np
from safetensors.numpy import save_file
d = sys.argv[1]; C, V, P, L = 8, 13, 6, 2
json.dump({"model_type": "gpt2", "n_embd": C, "n_head": 2, "n_layer": L, "n_positions": P, "vocab_size": V, "n_inner": None}, open(d + "/config.json", "w"))
r = np.random.default_rng(0)
t = {"wte.weight": r.normal(size=(V, C)), "wpe.weight": r.normal(size=(P, C)), "ln_f.weight": np.ones(C), "ln_f.bias": np.zeros(C)}
for i in range(L):
    h = "h.%d." % i
    t.update({h + "ln_1.weight": np.ones(C), h + "ln_1.bias": np.zeros(C), h + "attn.c_attn.weight": r.normal(size=(C, 3 * C)), h + "attn.c_attn.bias": r.normal(size=3 * C),
              h + "attn.c_proj.weight": r.normal(size=(C, C)), h + "attn.c_proj.bias": r.normal(size=C), h + "ln_2.weight": np.ones(C), h + "ln_2.bias": np.zeros(C),
              h + "mlp.c_fc.weight": r.normal(size=(C, 4 * C)), h + "mlp.c_fc.bias": r.normal(size=4 * C), h + "mlp.c_proj.weight": r.normal(size=(4 * C, C)), h + "mlp.c_proj.bias": r.normal(size=C),
              h + "attn.bias": np.tril(np.ones((1, 1, P, P)))})
save_file({k: v.astype(np.float16) for k, v in t.items()}, d + "/model.safetensors", metadata={"format": "pt"})`,
    [dir],
  );
  const model = await readHuggingfaceGpt2(dir);
  assert.deepEqual(model.inputShape, [6], 'the window defaults to n_positions');
  assert.deepEqual(model.layers.map((l) => l.type), ['embedding', 'positionalEmbedding', 'transformerBlock', 'transformerBlock', 'layerNormalization', 'lmHead']);
  assert.deepEqual(model.layers[2], { type: 'transformerBlock', heads: 2, repeat: 1, mlpRatio: 4, dropout: 0.1, useBias: true });
  assert.deepEqual(model.layers[5], { type: 'lmHead', tied: true });
  assert.deepEqual(model.weights[2]!.map((w) => w.name), ['ln1/gamma', 'ln1/beta', 'attention/qkv/kernel', 'attention/qkv/bias', 'attention/projection/kernel', 'attention/projection/bias', 'ln2/gamma', 'ln2/beta', 'mlp/fc/kernel', 'mlp/fc/bias', 'mlp/projection/kernel', 'mlp/projection/bias'].map((s) => `layer2_transformerBlock/${s}`));
  assert.deepEqual(model.weights[5], [], 'a tied head has no weight of its own');
  assert.equal(model.tokenizer, undefined, 'no pipetrain vocabulary, and not GPT-2\'s 50,257 tokens');
});

test('a missing or corrupt config.json, a missing or corrupt model.safetensors, an unsupported dtype and a mismatched tensor name the file', async (t) => {
  const dir = await tempDir(t);
  const config = join(dir, HF_CONFIG);
  const weights = join(dir, HF_WEIGHTS);
  const expectFormatError = async (pattern: RegExp, name: string) => assert.rejects(readHuggingfaceGpt2(dir), (e: Error) => e instanceof FormatError && pattern.test(e.message), name);
  await expectFormatError(new RegExp(`^${config}: missing; a Hugging Face model directory has config.json next to model.safetensors$`), 'no config');
  await writeExport(dir, seededGpt({ tied: true, useBias: false }));
  const good = encodeHuggingfaceGpt2(seededGpt({ tied: true, useBias: false }), { metadata });
  const goodConfig = JSON.parse(good[0]!.bytes.toString()) as Record<string, unknown>;
  await writeFile(config, '{"n_embd": 16,');
  await expectFormatError(new RegExp(`^${config}: not a valid JSON object`), 'corrupt config');
  await writeFile(config, JSON.stringify({ ...goodConfig, activation_function: 'relu' }));
  await expectFormatError(/config\.json: activation_function "relu" is not GELU with the tanh approximation/, 'activation');
  await writeFile(config, JSON.stringify({ ...goodConfig, n_layer: 4 }));
  await expectFormatError(new RegExp(`^${weights}: tensor h\\.3\\.ln_1\\.weight is missing \\(${config} describes 4 blocks of width 16\\)`), 'missing tensor');
  await writeFile(config, JSON.stringify({ ...goodConfig, n_inner: 48 }));
  await expectFormatError(/model\.safetensors: tensor h\.0\.mlp\.c_fc\.weight has shape \[16, 32\], but .*config\.json implies \[16, 48\]/, 'shape');
  await writeFile(config, JSON.stringify(goodConfig));
  await writeFile(weights, Buffer.from([1, 2, 3]));
  await expectFormatError(new RegExp(`^${weights}: 3 bytes is too short for a safetensors file`), 'corrupt header');
  await runPython(`import sys, numpy as np
from safetensors.numpy import save_file
save_file({"wte.weight": np.zeros((11, 16))}, sys.argv[1])`, [weights]);
  await expectFormatError(new RegExp(`^${weights}: tensor wte\\.weight: dtype F64 is not supported \\(pipetrain reads F32, F16 and BF16\\); convert the file to float32 first$`), 'dtype');
  await rm(weights);
  await writeFile(join(dir, 'pytorch_model.bin'), 'pickle');
  await expectFormatError(/model\.safetensors: missing; this directory has pytorch_model\.bin only, which pipetrain cannot read: save it with save_pretrained\(dir, safe_serialization=True\)/, 'pickle only');
});

test('models GPT-2 cannot express are refused with the layer and the fix', () => {
  assert.match(gpt2Incompatibility(jobLayers(tinyMlpJob()))!, /^it is not a GPT \(layer 0 is dense; GPT-2 is exactly embedding, positionalEmbedding, transformerBlock \(any repeat\), layerNormalization, lmHead\)$/);
  const gpt = seededGpt({ tied: true, useBias: false });
  assert.equal(gpt2Incompatibility(gpt.layers), undefined);
  const mixed = gpt.layers.map((l, i) => (i === 3 && l.type === 'transformerBlock' ? { ...l, heads: 4 } : l));
  assert.match(gpt2Incompatibility(mixed)!, /transformer block 1 \(layer 3\) has heads 4, block 0 has 2; GPT-2's config has one value for every block/);
  const epsilon = gpt.layers.map((l) => (l.type === 'layerNormalization' ? { ...l, epsilon: 1e-3 } : l));
  assert.match(gpt2Incompatibility(epsilon)!, /the final layerNormalization \(layer 5\) has epsilon 0\.001; GPT-2 uses 0\.00001 in every LayerNorm/);
  assert.throws(() => encodeHuggingfaceGpt2({ ...gpt, layers: epsilon }, { metadata }), (e: Error) => e instanceof FormatError && /^--format huggingface exports GPT models only, and the final layerNormalization .*; export with --format safetensors instead$/.test(e.message));
});
