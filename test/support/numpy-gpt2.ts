// A reference GPT-2 forward written in numpy from a Hugging Face directory's config.json and
// model.safetensors alone: transformers' GPT2LMHeadModel arithmetic (pre-LayerNorm, fused c_attn
// in Conv1D [in, out] layout, causal softmax attention scaled by 1/sqrt(head size), gelu_new, ln_f,
// tied or separate lm_head), in float64, independent of pipetrain's code. Tests compare our logits with it.
import { runPython } from './python.ts';

const GPT2_FORWARD = `
import sys, json, numpy as np
from safetensors.numpy import load_file
folder, contexts = sys.argv[1], json.loads(sys.argv[2])
config = json.load(open(folder + "/config.json"))
tensors = {k[len("transformer."):] if k.startswith("transformer.") else k: v.astype(np.float64) for k, v in load_file(folder + "/model.safetensors").items()}
width, heads, eps = config["n_embd"], config["n_head"], config["layer_norm_epsilon"]
assert config["activation_function"] == "gelu_new"
size = width // heads

def layer_norm(x, name):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * tensors[name + ".weight"] + tensors[name + ".bias"]

def conv1d(x, name):
    return x @ tensors[name + ".weight"] + tensors[name + ".bias"]

def gelu_new(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))

out = []
for ids in contexts:
    t = len(ids)
    x = tensors["wte.weight"][ids] + tensors["wpe.weight"][:t]
    for i in range(config["n_layer"]):
        h = "h.%d." % i
        q, k, v = np.split(conv1d(layer_norm(x, h + "ln_1"), h + "attn.c_attn"), 3, axis=-1)
        q, k, v = (a.reshape(t, heads, size).transpose(1, 0, 2) for a in (q, k, v))
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(size)
        scores = np.where(np.tril(np.ones((t, t), dtype=bool)), scores, -np.inf)
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        x = x + conv1d((weights @ v).transpose(1, 0, 2).reshape(t, width), h + "attn.c_proj")
        x = x + conv1d(gelu_new(conv1d(layer_norm(x, h + "ln_2"), h + "mlp.c_fc")), h + "mlp.c_proj")
    x = layer_norm(x, "ln_f")
    head = tensors["wte.weight"] if config.get("tie_word_embeddings", True) else tensors["lm_head.weight"]
    out.append((x[-1] @ head.T).tolist())
print(json.dumps(out))
`;

/** Next-token logits (at the last position) for each context of token ids. */
export async function numpyGpt2Logits(folder: string, contexts: number[][]): Promise<number[][]> {
  return JSON.parse(await runPython(GPT2_FORWARD, [folder, JSON.stringify(contexts)])) as number[][];
}
