// `pipetrain generate CHECKPOINT --prompt TEXT ...`: samples text from a language model's
// checkpoint folder (spec.checkpoint.path), the newest committed step or --step N, however many
// stages wrote it. Text is streamed to stdout; --json prints one object at the end instead.
import { stat } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';

interface GenerateCommandOptions {
  prompt: string;
  maxTokens: number;
  temperature: number;
  topK?: number;
  seed: number;
  step?: number;
  backend?: 'cpu' | 'wasm' | 'tensorflow' | 'tensorflow-gpu';
  json?: boolean;
}

const HELP_AFTER = `
The model, its tokenizer and its weights all come from the checkpoint folder: stage 0 records
the model in its manifest, and every layer has its own file, so it does not matter how many
stages trained it. The context is cropped to the model's training window (spec.model.inputShape[0]).
The same checkpoint, seed and backend give the same text; --temperature 0 is greedy.
Exit status: 0, or 1 with a one-line error (no checkpoint, a prompt character outside the
vocabulary, a checkpoint that is not of a language model).

Examples:
  $ pipetrain generate examples/checkpoints/moby-dick-gpt --prompt "Call me Ishmael." --max-tokens 300
  $ pipetrain generate ckpt --prompt "The whale" --temperature 0 --json`;

/** Registers the command; `write`/`writeError` receive the output (stdout/stderr by default, sinks in tests). */
export function registerGenerate(
  program: Command,
  write: (text: string) => void = (text) => process.stdout.write(text),
  writeError: (text: string) => void = (text) => process.stderr.write(text),
): void {
  program
    .command('generate <checkpoint>')
    .description('Generate text from a language model checkpoint (a job\'s spec.checkpoint.path folder), streaming it to stdout')
    .option('--prompt <text>', 'text to continue; empty starts from <|endoftext|> (GPT-2 BPE only)', '\n')
    .option('--max-tokens <n>', 'tokens to generate', positiveInteger('--max-tokens'), 200)
    .option('--temperature <t>', 'softmax temperature; 0 is greedy (the most likely token every time)', nonNegative('--temperature'), 0.8)
    .option('--top-k <k>', 'sample among the k most likely tokens only (default: all)', positiveInteger('--top-k'))
    .option('--seed <s>', 'seed of the sampling: the same seed gives the same text', integer('--seed'), 1)
    .option('--step <n>', 'use the committed checkpoint of this step (default: the newest that verifies)', positiveInteger('--step'))
    .addOption(new Option('--backend <backend>', 'TensorFlow.js backend (default: the one the checkpoint was written on)').choices(['cpu', 'wasm', 'tensorflow', 'tensorflow-gpu']))
    .option('--json', 'print {"text", "promptTokens": [ids], "tokens": [ids]} at the end instead of streaming')
    .addHelpText('after', HELP_AFTER)
    .action(async (dir: string, options: GenerateCommandOptions) => {
      process.exitCode = await runGenerate(dir, options, write, writeError);
    });
}

async function runGenerate(dir: string, options: GenerateCommandOptions, write: (text: string) => void, writeError: (text: string) => void): Promise<number> {
  const kind = await stat(dir).then((s) => (s.isDirectory() ? 'folder' : 'file'), () => 'missing');
  if (kind !== 'folder') {
    writeError(`error: ${dir}: ${kind === 'missing' ? 'no such folder' : 'not a folder (give the checkpoint folder, spec.checkpoint.path)'}\n`);
    return 1;
  }
  // Loaded here, not at the top: TensorFlow.js costs other commands nothing.
  const [{ readLanguageModelCheckpoint, CheckpointError }, { generate }, { trainedModel }, { initBackend }, { loadTokenizer }, { DataError }] = await Promise.all([
    import('../generate/checkpoint-model.ts'), import('../generate/generate.ts'), import('../generate/trained-model.ts'),
    import('../tf/backend.ts'), import('../data/tokenizer.ts'), import('../data/dataset.ts'),
  ]);
  try {
    const checkpoint = await readLanguageModelCheckpoint(dir, { step: options.step, log: (level, message) => writeError(`${level}: ${message}\n`) });
    await initBackend((options.backend ?? checkpoint.backend) as Parameters<typeof initBackend>[0]);
    const tokenizer = await loadTokenizer(checkpoint.description.tokenizer);
    const model = trainedModel(checkpoint.description.model, checkpoint.description.seed, checkpoint.weights, checkpoint.description.lora);
    try {
      const sampling = { maxTokens: options.maxTokens, temperature: options.temperature, topK: options.topK, seed: options.seed };
      if (options.json) {
        const { text, promptTokens, tokens } = generate(model, tokenizer, options.prompt, sampling);
        write(`${JSON.stringify({ text, promptTokens, tokens })}\n`);
      } else {
        write(options.prompt);
        generate(model, tokenizer, options.prompt, sampling, write);
        write('\n');
      }
    } finally {
      model.dispose();
    }
    return 0;
  } catch (error) {
    if (error instanceof CheckpointError || error instanceof DataError || error instanceof RangeError) {
      writeError(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function positiveInteger(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be an integer >= 1`);
    return n;
  };
}

function integer(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} must be an integer >= 0`);
    return n;
  };
}

function nonNegative(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${flag} must be a number >= 0`);
    return n;
  };
}
