import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { InputFile } from './inputs.ts';
import { readInputs, type DocumentSink, type SourceRef } from './read-inputs.ts';

interface Doc { source: SourceRef; text: string }

function collector(): { sink: DocumentSink; docs: Doc[]; chunks: number } {
  const out = { docs: [] as Doc[], chunks: 0, sink: undefined as unknown as DocumentSink };
  let current: Doc | undefined;
  out.sink = {
    begin: (source) => { current = { source, text: '' }; },
    lines: (text) => { out.chunks++; current!.text += current!.text === '' ? text : `\n${text}`; },
    end: () => { out.docs.push(current!); current = undefined; },
  };
  return out;
}

async function files(t: { after: (fn: () => Promise<void>) => void }, contents: Record<string, string | Buffer>): Promise<InputFile[]> {
  const dir = await mkdtemp(join(tmpdir(), 'read-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const out: InputFile[] = [];
  for (const [name, content] of Object.entries(contents)) {
    await writeFile(join(dir, name), content);
    out.push({ path: join(dir, name), name, kind: name.endsWith('.jsonl') ? 'jsonl' : 'text', bytes: Buffer.byteLength(content) });
  }
  return out;
}

test('a text file is one document; CRLF and CR become newlines; each file is hashed', async (t) => {
  const input = await files(t, { 'a.txt': 'one\r\ntwo\rthree\n', 'b.txt': 'solo' });
  const { sink, docs } = collector();
  const hashes = await readInputs(input, sink, { textField: 'text' });
  assert.deepEqual(docs, [{ source: { file: 0, line: 1 }, text: 'one\ntwo\nthree' }, { source: { file: 1, line: 1 }, text: 'solo' }]);
  assert.equal(hashes[0], createHash('sha256').update('one\r\ntwo\rthree\n').digest('hex'));
});

test('JSON Lines: one document per record, from the text field, with its line number', async (t) => {
  const input = await files(t, { 'c.jsonl': '{"text":"first\\r\\nrecord","id":1}\n\n{"body":"x","text":"second"}\n{"text":""}' });
  const { sink, docs } = collector();
  await readInputs(input, sink, { textField: 'text' });
  assert.deepEqual(docs, [
    { source: { file: 0, line: 1 }, text: 'first\nrecord' },
    { source: { file: 0, line: 3 }, text: 'second' },
    { source: { file: 0, line: 4 }, text: '' },
  ]);
});

test('a file bigger than the 1 MiB read buffer arrives in several chunks of whole lines', async (t) => {
  const line = 'x'.repeat(99);
  const text = Array.from({ length: 30_000 }, () => line).join('\n'); // 3 MB
  const input = await files(t, { 'big.txt': text });
  const seen = collector();
  await readInputs(input, seen.sink, { textField: 'text' });
  assert.ok(seen.chunks >= 3, `${seen.chunks} chunks`);
  assert.equal(seen.docs[0]!.text, text);
});

test('refuses binary and broken input, naming the file and where', async (t) => {
  const input = await files(t, {
    'nul.txt': 'ok\nbad\u0000\n',
    'latin1.txt': Buffer.from([0x61, 0x0a, 0xe9, 0x0a]),
    'bad.jsonl': '{"text":"a"}\nnot json\n',
    'field.jsonl': '{"body":"a"}\n',
  });
  const read = (i: number) => readInputs([input[i]!], collector().sink, { textField: 'text' });
  await assert.rejects(read(0), /^Error: nul\.txt: a NUL byte in line 2; binary files cannot be prepared/);
  await assert.rejects(read(1), /^Error: latin1\.txt: not UTF-8 text \(an invalid byte sequence at byte 2\)/);
  await assert.rejects(read(2), /^Error: bad\.jsonl:2: not valid JSON/);
  await assert.rejects(read(3), /^Error: field\.jsonl:1: the record has no string field "text" \(its fields: "body"\); name the text field with --text-field$/);
});

test('an aborted signal stops the reading', async (t) => {
  const input = await files(t, { 'a.txt': 'x' });
  await assert.rejects(readInputs(input, collector().sink, { textField: 'text', signal: AbortSignal.abort() }), /interrupted; nothing was written/);
});
