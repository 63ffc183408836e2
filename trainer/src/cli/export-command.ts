// `pipetrain export CHECKPOINT --format tfjs-layers|safetensors|huggingface --out DIR [--step N]`:
// writes a committed checkpoint's model as files other tools load (export/export-model.ts), all
// or nothing. --json prints what was written.
import { Option, type Command } from 'commander';
import { positiveInteger } from './number-options.ts';

interface ExportCommandOptions {
  format: 'tfjs-layers' | 'safetensors' | 'huggingface';
  out: string;
  step?: number;
  overwrite?: boolean;
  json?: boolean;
  merge?: boolean;
}

const HELP_AFTER = `
CHECKPOINT is a job's checkpoint folder (spec.checkpoint.path): its newest committed step is
exported, or --step N; a step folder (…/step-000000120) works too. The model comes from the
checkpoint alone, however many stages wrote it.
  tfjs-layers   model.json + weights.bin, for tf.loadLayersModel; models of dense, conv2d,
                maxPooling2d, flatten, dropout, activation and layerNormalization layers
  safetensors   model.safetensors (float32, pipetrain's weight names) + config.json (spec.model)
  huggingface   config.json + model.safetensors (+ vocab.json for a char vocabulary), which
                transformers' GPT2LMHeadModel.from_pretrained loads; GPT models only
A LoRA checkpoint (spec.training.lora) needs --merge, which folds the adapters into the base
weights (W + alpha/rank·A·B), except for safetensors, which without it keeps them as tensors of
their own (<kernel>/lora_a, /lora_b) and config.json says how to apply them.
Each export records the job, step, checkpoint checksum and pipetrain version it came from (and
for LoRA the adapters' spec and the base weights' SHA-256).
Nothing is written unless everything is: a failure leaves --out as it was. An existing
non-empty --out is refused unless --overwrite. See docs/export.md.
Exit status: 0, or 1 with a one-line error.

Examples:
  $ pipetrain export ckpt/mnist --format tfjs-layers --out exported/mnist
  $ pipetrain export ckpt/moby-dick-gpt --format huggingface --out hf/moby --step 400`;

/** Registers the command; `write`/`writeError` receive the output (stdout/stderr by default, sinks in tests). */
export function registerExport(
  program: Command,
  write: (text: string) => void = (text) => process.stdout.write(text),
  writeError: (text: string) => void = (text) => process.stderr.write(text),
): void {
  program
    .command('export <checkpoint>')
    .description('Export a checkpoint\'s model as tfjs-layers, safetensors or a Hugging Face GPT-2 directory')
    .addOption(new Option('--format <format>', 'file format').choices(['tfjs-layers', 'safetensors', 'huggingface']).makeOptionMandatory())
    .requiredOption('--out <dir>', 'folder to write (created; refused when it exists and is not empty, unless --overwrite)')
    .option('--step <n>', 'export the committed checkpoint of this step (default: the newest that verifies)', positiveInteger('--step'))
    .option('--overwrite', 'replace an existing --out (atomically: the old one stays if the export fails)')
    .option('--json', 'print {"out", "format", "files": [{name, bytes}], "metadata"} when done')
    .option('--merge', 'fold LoRA adapters into the base weights (needed for tfjs-layers and huggingface)')
    .addHelpText('after', HELP_AFTER)
    .action(async (checkpoint: string, options: ExportCommandOptions) => {
      process.exitCode = await runExport(checkpoint, options, write, writeError);
    });
}

async function runExport(location: string, options: ExportCommandOptions, write: (text: string) => void, writeError: (text: string) => void): Promise<number> {
  // Loaded here, not at the top: TensorFlow.js costs other commands nothing.
  const [{ readCheckpointedModel, CheckpointError }, { exportFiles, exportMetadata }, { checkOutputFolder, writeOutputFolder }, { ExportError }, { DataError }, { initBackend }] = await Promise.all([
    import('../generate/checkpoint-model.ts'), import('../export/export-model.ts'), import('../export/output-folder.ts'),
    import('../export/export-error.ts'), import('../data/dataset.ts'), import('../tf/backend.ts'),
  ]);
  try {
    await checkOutputFolder(options.out, options);
    const checkpoint = await readCheckpointedModel(location, { step: options.step, log: (level, message) => writeError(`${level}: ${message}\n`) });
    // Encoding runs no model arithmetic (tfjs-layers only builds and saves the model): cpu is enough.
    await initBackend('cpu');
    const exportOptions = { merge: options.merge === true };
    const files = await exportFiles(checkpoint, options.format, exportOptions);
    await writeOutputFolder(options.out, files, options);
    const metadata = exportMetadata(checkpoint, exportOptions);
    const summary = { out: options.out, format: options.format, files: files.map((f) => ({ name: f.name, bytes: f.bytes.length })), metadata };
    write(options.json ? `${JSON.stringify(summary)}\n` : `Exported ${checkpoint.dir} step ${checkpoint.step} (job ${metadata.job}) as ${options.format} to ${options.out}: ${files.map((f) => f.name).join(', ')}\n`);
    return 0;
  } catch (error) {
    if (error instanceof CheckpointError || error instanceof DataError || error instanceof ExportError) {
      writeError(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

