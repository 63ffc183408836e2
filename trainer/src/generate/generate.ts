// Text generation with a trained language model: the context is the prompt, then every token
// generated, cropped to the model's window (as nanoGPT's sample.py); each step samples one token.
// The text is streamed as it stabilises: a byte-level BPE token may end inside a UTF-8 character.
import type { Tokenizer } from '../data/tokenizer.ts';
import { seededRandom } from '../model/seeds.ts';
import { sampleToken, type SamplingOptions } from './sampling.ts';
import type { TrainedModel } from './trained-model.ts';

export interface GenerateOptions extends SamplingOptions {
  maxTokens: number;
  seed: number;
}

export interface Generated {
  promptTokens: number[];
  tokens: number[];
  /** The generated text (without the prompt). */
  text: string;
}

/**
 * Generates up to `maxTokens` tokens after `prompt`; `onText` receives the new text as it becomes
 * final. An empty prompt starts from <|endoftext|> (gpt2) or is refused (char: no start token).
 */
export function generate(model: TrainedModel, tokenizer: Tokenizer, prompt: string, options: GenerateOptions, onText?: (text: string) => void): Generated {
  const promptTokens = prompt === '' && tokenizer.endOfText !== undefined ? [tokenizer.endOfText] : tokenizer.encode(prompt);
  if (promptTokens.length === 0) throw new RangeError('--prompt is empty; give at least one character (a char vocabulary has no start token)');
  const random = seededRandom(options.seed);
  const context = [...promptTokens];
  const tokens: number[] = [];
  let shown = '';
  for (let i = 0; i < options.maxTokens; i++) {
    const logits = model.nextLogits(context.slice(-model.window));
    const next = sampleToken(logits, options, random);
    tokens.push(next);
    context.push(next);
    const text = tokenizer.decode(tokens);
    // A trailing U+FFFD is half a character: wait for the token that completes it.
    if (onText && !text.endsWith('\uFFFD') && text.length > shown.length) {
      onText(text.slice(shown.length));
      shown = text;
    }
  }
  const text = tokenizer.decode(tokens);
  if (onText && text.length > shown.length) onText(text.slice(shown.length));
  return { promptTokens, tokens, text };
}
