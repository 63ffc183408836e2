// Hugging Face transformers itself on an exported GPT-2 folder: FlaxGPT2LMHeadModel.from_pretrained
// with from_pt=True reads the PyTorch-layout model.safetensors and config.json that
// GPT2LMHeadModel.from_pretrained reads (torch's CPU wheel is not on PyPI, so the Flax class stands
// in for the torch one; the weights file and the GPT-2 arithmetic are the same). .ci/python.sh installs it.
import { runPython } from './python.ts';

const TRANSFORMERS_FORWARD = `
import sys, json, warnings
warnings.filterwarnings("ignore")
import numpy as np
from transformers import FlaxGPT2LMHeadModel
folder, contexts = sys.argv[1], json.loads(sys.argv[2])
model = FlaxGPT2LMHeadModel.from_pretrained(folder, from_pt=True)
out = [np.asarray(model(np.array([ids], dtype=np.int32)).logits, dtype=np.float64)[0, -1].tolist() for ids in contexts]
print(json.dumps(out))
`;

/** transformers' logits at the last position of each context (token ids), from the folder's files alone. */
export async function transformersGpt2Logits(folder: string, contexts: number[][]): Promise<number[][]> {
  return JSON.parse(await runPython(TRANSFORMERS_FORWARD, [folder, JSON.stringify(contexts)])) as number[][];
}
