// Stage-token authentication of the WebSocket upgrade: `Authorization: Bearer <token>`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Constant-time string comparison. Both sides are hashed first so that neither the content nor the
 * length of the expected token leaks through timing (timingSafeEqual needs equal lengths).
 */
export function tokensEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

/** The value of the Authorization header for a token. */
export function bearerHeader(token: string): string {
  return `Bearer ${token}`;
}

/** Extracts the bearer token from an Authorization header value, or undefined if absent/malformed. */
export function parseBearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** True when the upgrade request carries exactly the expected token. */
export function isAuthorized(req: IncomingMessage, expectedToken: string): boolean {
  const presented = parseBearer(req.headers.authorization);
  // Compare even when absent so a missing header costs the same as a wrong one.
  const ok = tokensEqual(presented ?? '', expectedToken);
  return presented !== undefined && ok;
}

/** Throws a TypeError unless the token can travel in an HTTP header as a bearer token. */
export function validateToken(token: unknown): asserts token is string {
  if (typeof token !== 'string' || token.length === 0) {
    throw new TypeError('The "token" option must be a non-empty string.');
  }
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new TypeError('The "token" option must contain only visible ASCII characters (no spaces).');
  }
}
