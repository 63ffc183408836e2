// Datasets from a local file: CSV with a header row, or JSON Lines.
// CSV: every column but `labelField` is a numeric feature, in header order.
// JSON Lines: one object per line; features come from its `features` array if present, otherwise
// from every other numeric field in the order of the first line. Labels are class indices
// (classification) or numbers / arrays of numbers (regression).
import { readFile } from 'node:fs/promises';
import { DataError, type Dataset } from './dataset.ts';

export interface FileSpec {
  path: string;
  format: 'csv' | 'jsonl';
  labelField: string;
}

interface Row { features: number[]; label: number[] }

export async function loadFileDataset(spec: FileSpec, classification: boolean, featureShape: number[]): Promise<Dataset> {
  let text: string;
  try {
    text = await readFile(spec.path, 'utf8');
  } catch (error) {
    throw new DataError(`spec.data.dataset.path: cannot read '${spec.path}': ${(error as Error).message}`);
  }
  const rows = spec.format === 'csv' ? parseCsv(text, spec) : parseJsonLines(text, spec);
  if (rows.length === 0) throw new DataError(`${spec.path}: no samples`);
  return toDataset(rows, spec, classification, featureShape);
}

function parseCsv(text: string, spec: FileSpec): Row[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const labelColumn = header.indexOf(spec.labelField);
  if (labelColumn < 0) throw new DataError(`${spec.path}:1: no column named '${spec.labelField}' (spec.data.dataset.labelField); columns: ${header.join(', ')}`);
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',').map((cell) => cell.trim());
    if (cells.length !== header.length) throw new DataError(`${spec.path}:${i + 2}: expected ${header.length} values, got ${cells.length}`);
    const numbers = cells.map((cell, column) => parseNumber(cell, `${spec.path}:${i + 2}: column '${header[column]}'`));
    return { features: numbers.filter((_, column) => column !== labelColumn), label: [numbers[labelColumn]!] };
  });
}

function parseJsonLines(text: string, spec: FileSpec): Row[] {
  let featureKeys: string[] | undefined;
  const rows: Row[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${spec.path}:${i + 1}`;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      throw new DataError(`${where}: invalid JSON: ${(error as Error).message}`);
    }
    if (!(spec.labelField in record)) throw new DataError(`${where}: no field '${spec.labelField}' (spec.data.dataset.labelField)`);
    featureKeys ??= Object.keys(record).filter((key) => key !== spec.labelField);
    const features = Array.isArray(record.features) ? record.features : featureKeys.map((key) => record[key]);
    rows.push({
      features: features.map((value, j) => parseNumber(value, `${where}: feature ${j}`)),
      label: [record[spec.labelField]].flat().map((value) => parseNumber(value, `${where}: '${spec.labelField}'`)),
    });
  });
  return rows;
}

function parseNumber(value: unknown, where: string): number {
  const number = typeof value === 'number' ? value : typeof value === 'string' && value !== '' ? Number(value) : NaN;
  if (!Number.isFinite(number)) throw new DataError(`${where}: not a number: ${JSON.stringify(value)}`);
  return number;
}

function toDataset(rows: Row[], spec: FileSpec, classification: boolean, featureShape: number[]): Dataset {
  const featureSize = featureShape.reduce((a, b) => a * b, 1);
  const labelSize = rows[0]!.label.length;
  rows.forEach((row, i) => {
    if (row.features.length !== featureSize) {
      throw new DataError(`${spec.path}: sample ${i + 1} has ${row.features.length} features; spec.model.inputShape [${featureShape.join(', ')}] needs ${featureSize}`);
    }
    if (classification && (!Number.isInteger(row.label[0]) || row.label[0]! < 0)) {
      throw new DataError(`${spec.path}: sample ${i + 1}: label ${row.label[0]} is not a class index (a non-negative integer)`);
    }
  });
  const classes = classification ? Math.max(...rows.map((row) => row.label[0]!)) + 1 : 0;
  return {
    features: Float32Array.from(rows.flatMap((row) => row.features)),
    featureShape: [...featureShape],
    labels: Float32Array.from(rows.flatMap((row) => row.label)),
    labelShape: classification ? [] : [labelSize],
    count: rows.length,
    classes,
  };
}
