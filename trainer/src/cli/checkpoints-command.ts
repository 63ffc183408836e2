// `pipetrain checkpoints PATH [--json] [--no-verify]`: lists the committed checkpoints of a
// checkpoint folder, newest first, and whether each verifies (and if not, which file is wrong).
// The work is in checkpoint/list.ts; this file only formats.
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { listCheckpoints, listUncommitted, type CheckpointInfo } from '../checkpoint/index.ts';

interface CheckpointsOptions {
  json?: boolean;
  verify: boolean;
}

const HELP_AFTER = `
A checkpoint counts once its COMMITTED.json exists: every stage wrote its part and every file
verified. Each one is checked again here (SHA-256 of every file, or only sizes with --no-verify);
a restart skips checkpoints that do not verify and resumes from the next older one.
Step folders without a commit record (being written, or left by a failed write) are not listed,
only counted. Exit status: 0, also when there is no checkpoint yet; 1 when PATH does not exist.

Examples:
  $ pipetrain checkpoints /data/ckpt/mnist
  $ pipetrain checkpoints /data/ckpt/mnist --json`;

/** Registers the command; `write`/`writeError` receive the output (stdout/stderr by default, sinks in tests). */
export function registerCheckpoints(
  program: Command,
  write: (text: string) => void = (text) => process.stdout.write(text),
  writeError: (text: string) => void = (text) => process.stderr.write(text),
): void {
  program
    .command('checkpoints <path>')
    .description('List the committed checkpoints in a checkpoint folder (newest first) and whether each verifies')
    .option('--json', 'print { path, checkpoints: [...], uncommitted: [steps] } as JSON')
    .option('--no-verify', 'check file sizes only, without hashing (fast for large checkpoints)')
    .addHelpText('after', HELP_AFTER)
    .action(async (dir: string, options: CheckpointsOptions) => {
      const kind = await stat(dir).then((s) => (s.isDirectory() ? 'folder' : 'file'), () => 'missing');
      if (kind !== 'folder') {
        writeError(`error: ${dir}: ${kind === 'missing' ? 'no such folder' : 'not a folder'}\n`);
        process.exitCode = 1;
        return;
      }
      const checkpoints = await listCheckpoints(dir, { verify: options.verify });
      const uncommitted = await listUncommitted(dir);
      write(options.json === true ? `${JSON.stringify({ path: dir, checkpoints, uncommitted }, null, 2)}\n` : formatList(dir, checkpoints, uncommitted));
    });
}

export function formatList(dir: string, checkpoints: CheckpointInfo[], uncommitted: number[]): string {
  const lines: string[] = [];
  if (checkpoints.length === 0) {
    lines.push(`${dir}: no committed checkpoint`);
  } else {
    const bad = checkpoints.filter((c) => !c.verified).length;
    lines.push(`${dir}: ${plural(checkpoints.length, 'committed checkpoint')}, newest first${bad > 0 ? ` (${bad} do${bad === 1 ? 'es' : ''} not verify)` : ''}`);
    const rows = [['STEP', 'COMMITTED AT', 'SIZE', 'WRITTEN BY', 'BACKEND', 'VERIFIED']];
    for (const c of checkpoints) {
      rows.push([String(c.step), c.committedAt || '?', humanBytes(c.bytes), writtenBy(c), c.backend || '?', c.verified ? 'yes' : 'NO']);
    }
    const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
    for (const row of rows) lines.push(`  ${row.map((cell, col) => (col === 0 ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!))).join('  ').trimEnd()}`);
    for (const c of checkpoints.filter((c) => !c.verified)) for (const problem of c.problems) lines.push(`  step ${c.step}: ${problem}`);
  }
  if (uncommitted.length > 0) lines.push(`${plural(uncommitted.length, 'uncommitted step folder')} ignored (step ${uncommitted.join(', ')})`);
  return `${lines.join('\n')}\n`;
}

/** e.g. "4 stages (2+2+1+1)": how many stages wrote it and how many layers each. */
function writtenBy(c: CheckpointInfo): string {
  return c.stages === 0 ? '?' : `${plural(c.stages, 'stage')} (${c.partition.join('+')})`;
}

/** Binary units, one decimal: "812 B", "1.5 KiB", "64.0 MiB". */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
