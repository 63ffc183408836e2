// A problem with an export or predict request that is not the checkpoint's or a file format's
// (an --out that exists, a missing --input file): one line naming the file
// and the fix; nothing is written.
export class ExportError extends Error {
  override readonly name = 'ExportError';
}
