// Maps a field path back to a line and column of the YAML source, so problems point at the text.
// When the path does not exist (a missing field), the closest existing parent is used.
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

export interface Position {
  line: number;
  column: number;
}

/** Position of the value at `path`, or of its key when `atKey` (unknown fields point at the name). */
export function positionOf(doc: Document, counter: LineCounter, path: readonly PropertyKey[], atKey = false): Position | undefined {
  let node: unknown = doc.contents;
  let found = rangeStart(node);
  for (const [index, segment] of path.entries()) {
    const step = childOf(node, segment);
    if (step === undefined) break;
    const last = index === path.length - 1;
    found = (last && atKey ? rangeStart(step.key) : undefined) ?? rangeStart(step.value) ?? rangeStart(step.key) ?? found;
    node = step.value;
  }
  if (found === undefined) return undefined;
  const { line, col } = counter.linePos(found);
  return { line, column: col };
}

function childOf(node: unknown, segment: PropertyKey): { key?: unknown; value: unknown } | undefined {
  if (isMap(node)) {
    const pair = node.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === segment);
    return pair === undefined ? undefined : { key: pair.key, value: pair.value };
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item: unknown = node.items[segment];
    return item === undefined ? undefined : { value: item };
  }
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range?.[0];
}
