// `pipetrain predict CHECKPOINT --input FILE.jsonl [--step N] [--json]`: one prediction per input
// line from a checkpoint's model (generate/predict.ts has the line formats). --json prints one JSON
// object per line, otherwise a table.
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { positiveInteger } from './number-options.ts';

interface PredictCommandOptions {
  input: string;
  step?: number;
  top: number;
  backend?: 'cpu' | 'wasm' | 'tensorflow' | 'tensorflow-gpu';
  json?: boolean;
}

const HELP_AFTER = `
Each line of --input is one JSON object:
  {"input": [...]}    spec.model.inputShape numbers (nested or flat), for models on features;
                      prints {"line", "output": [last layer's values], "class": argmax (classifiers)}
  {"text": "..."}     language models: the text, tokenized with the checkpoint's tokenizer, or
  {"tokens": [ids]}   token ids; the context is cropped to the training window. Prints
                      {"line", "context": [ids], "logits": [next-token logits], "top": [{token, text, probability}]}
The model runs forward exactly as evaluation runs it (no dropout), on the backend the checkpoint
was written on unless --backend. Exit status: 0, or 1 with a one-line error naming the line.

Examples:
  $ pipetrain predict ckpt/mnist --input samples.jsonl --json
  $ echo '{"text": "Call me Ishmae"}' > p.jsonl && pipetrain predict ckpt/moby-dick-gpt --input p.jsonl`;

/** Registers the command; `write`/`writeError` receive the output (stdout/stderr by default, sinks in tests). */
export function registerPredict(
  program: Command,
  write: (text: string) => void = (text) => process.stdout.write(text),
  writeError: (text: string) => void = (text) => process.stderr.write(text),
): void {
  program
    .command('predict <checkpoint>')
    .description('Predict with a checkpoint\'s model, one output per line of a JSON Lines file')
    .requiredOption('--input <file>', 'JSON Lines file, one input object per line')
    .option('--step <n>', 'use the committed checkpoint of this step (default: the newest that verifies)', positiveInteger('--step'))
    .option('--top <k>', 'language models: how many most likely next tokens to list', positiveInteger('--top'), 5)
    .addOption(new Option('--backend <backend>', 'TensorFlow.js backend (default: the one the checkpoint was written on)').choices(['cpu', 'wasm', 'tensorflow', 'tensorflow-gpu']))
    .option('--json', 'print one JSON object per input line')
    .addHelpText('after', HELP_AFTER)
    .action(async (checkpoint: string, options: PredictCommandOptions) => {
      process.exitCode = await runPredict(checkpoint, options, write, writeError);
    });
}

async function runPredict(location: string, options: PredictCommandOptions, write: (text: string) => void, writeError: (text: string) => void): Promise<number> {
  // Loaded here, not at the top: TensorFlow.js costs other commands nothing.
  const [{ readCheckpointedModel, CheckpointError }, { forwardModel }, { predictLines, formatPredictions }, { ExportError }, { DataError }, { initBackend }, { loadTokenizer }] = await Promise.all([
    import('../generate/checkpoint-model.ts'), import('../generate/trained-model.ts'), import('../generate/predict.ts'),
    import('../export/export-error.ts'), import('../data/dataset.ts'), import('../tf/backend.ts'), import('../data/tokenizer.ts'),
  ]);
  try {
    const text = await readFile(options.input, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new ExportError(`${options.input}: ${error.code === 'ENOENT' ? 'no such file; --input is a JSON Lines file of inputs' : `unreadable (${error.code})`}`);
    });
    const checkpoint = await readCheckpointedModel(location, { step: options.step, log: (level, message) => writeError(`${level}: ${message}\n`) });
    await initBackend((options.backend ?? checkpoint.backend) as Parameters<typeof initBackend>[0]);
    const { description } = checkpoint;
    const tokenizer = description.tokenizer ? await loadTokenizer(description.tokenizer) : undefined;
    const model = forwardModel(description.model, description.seed, checkpoint.weights, description.lora);
    try {
      const predictions = predictLines(model, text, { file: options.input, top: options.top, loss: description.model.loss, tokenizer });
      write(options.json ? predictions.map((p) => `${JSON.stringify(p)}\n`).join('') : formatPredictions(predictions));
    } finally {
      model.dispose();
    }
    return 0;
  } catch (error) {
    if (error instanceof CheckpointError || error instanceof DataError || error instanceof ExportError) {
      writeError(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
