/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the `webhook-signature` header
 * holds one `v1,<base64 HMAC-SHA256>` per active secret, space-separated, over
 * `<webhook-id>.<webhook-timestamp>.<body>`. Signatures come from the reference `standardwebhooks`
 * package, the same code receivers verify with.
 */
import { Webhook } from 'standardwebhooks';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Headers for one attempt. `eventId` is the same on every attempt of an event (receivers dedupe on
 * it); `timestamp` is the attempt's own time, so retries pass receivers' freshness checks.
 */
export function signedHeaders(eventId: string, timestamp: Date, body: string, secrets: readonly string[]): SignedHeaders {
  if (secrets.length === 0) throw new Error('signedHeaders needs at least one secret');
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(eventId, timestamp, body)).join(' '),
  };
}
