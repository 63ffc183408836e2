// Typed checks of API errors (client-node 1.x and 2.x throw ApiException with `code`; watches report
// `statusCode`), instead of `(err as any).response?.statusCode` scattered through the code.

export function statusCode(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

export const isNotFound = (error: unknown): boolean => statusCode(error) === 404;
export const isConflict = (error: unknown): boolean => statusCode(error) === 409;
export const isAlreadyExists = isConflict;

/** A one-line description for logs, events and status messages. */
export function errorMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const body = (error as { body?: unknown }).body;
    if (typeof body === 'string') {
      try {
        const parsed = JSON.parse(body) as { message?: string };
        if (parsed.message) return parsed.message;
      } catch {
        // not JSON: fall through
      }
    }
    if (error instanceof Error) return error.message.split('\n')[0] ?? error.message;
  }
  return String(error);
}
