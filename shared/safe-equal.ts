/** Constant-time comparison of secrets (operator passwords and tokens, the metrics token). */
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * True when `given` equals `expected`. Both are hashed to 32 bytes first, so neither the time
 * taken nor an early length check tells a caller how close a guess was.
 */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** True when an `Authorization` header is `Bearer <token>` for this token (always true without a token). */
export function bearerMatches(token: string | undefined, authorization: string | undefined): boolean {
  if (!token) return true;
  const given = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  return given !== undefined && safeEqual(given, token);
}
