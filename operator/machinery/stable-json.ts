// JSON with sorted keys, to tell whether a freshly computed status differs from the stored one
// (the API server does not keep our key order). Undefined fields are dropped, as in JSON.
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
