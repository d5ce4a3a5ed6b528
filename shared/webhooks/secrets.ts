/**
 * Endpoint signing secrets in the Standard Webhooks format: `whsec_` followed by base64 of random
 * bytes. A rotation keeps the previous secret signing for a while so receivers can switch over.
 */
import { randomBytes } from 'node:crypto';
import { HOUR } from '../units.ts';

/** How long the previous secret keeps signing after a rotation, unless the caller says otherwise. */
export const DEFAULT_ROTATION_WINDOW_MS = 24 * HOUR;

/** A new secret: 32 random bytes (the spec asks for 24 to 64). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The secrets that sign right now: the current one, then the previous one while its window lasts. */
export function signingSecrets(
  endpoint: { secret: string; previous_secret: string | null; previous_secret_expires_at: Date | null },
  now = new Date(),
): string[] {
  const secrets = [endpoint.secret];
  const expires = endpoint.previous_secret_expires_at;
  if (endpoint.previous_secret && expires && expires.getTime() > now.getTime()) secrets.push(endpoint.previous_secret);
  return secrets;
}
