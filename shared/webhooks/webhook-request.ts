/**
 * One webhook POST. It dials the address the guard checked (never resolving the host again),
 * never follows redirects (a 3xx is a failed attempt), and gives up after the timeout, which
 * covers connecting, the response headers and reading (at most 64 KiB of) the response body.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { VERSION } from '../version.ts';
import type { DeliveryTarget } from './address-guard.ts';

/** Response bodies are read (so the connection ends cleanly) but never kept; beyond this we stop. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export const USER_AGENT = `Catalytic-Webhooks/${VERSION}`;

export interface WebhookResponse {
  status: number;
  /** Until the response headers arrived. */
  latencyMs: number;
  retryAfter?: string;
}

/** The request failed before any response (refused, reset, timed out). */
export class WebhookRequestError extends Error {
  override readonly name = 'WebhookRequestError';
  constructor(message: string, readonly code: string, readonly latencyMs: number) {
    super(message);
  }
}

/** A lookup that answers with the checked address only, whatever the host name. */
function pinnedLookup(target: DeliveryTarget): LookupFunction {
  return (_hostname, options, callback) => {
    // With autoSelectFamily (Node's default) net asks for every address at once.
    if ((options as { all?: boolean }).all) {
      (callback as unknown as (err: null, addresses: Array<{ address: string; family: number }>) => void)(null, [
        { address: target.address, family: target.family },
      ]);
    } else {
      callback(null, target.address, target.family);
    }
  };
}

export function postWebhook(
  target: DeliveryTarget,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<WebhookResponse> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const { url } = target;
  const secure = url.protocol === 'https:';
  return new Promise<WebhookResponse>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const request = (secure ? https : http).request({
      method: 'POST',
      hostname: target.hostname,
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      headers: {
        ...headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': USER_AGENT,
      },
      lookup: pinnedLookup(target),
      // A fresh connection per attempt: a pooled socket could belong to an address checked earlier.
      agent: false,
      // TLS checks the certificate against the host name, not the address dialled.
      ...(secure && !isIP(target.hostname) ? { servername: target.hostname } : {}),
    });
    const timer = setTimeout(() => {
      request.destroy(new WebhookRequestError(`No response within ${timeoutMs} ms`, 'ETIMEDOUT', elapsed()));
    }, timeoutMs);
    request.on('response', (response) => {
      const latencyMs = elapsed();
      const retryAfter = response.headers['retry-after'];
      const result: WebhookResponse = { status: response.statusCode ?? 0, latencyMs, ...(retryAfter ? { retryAfter } : {}) };
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) {
          response.destroy();
          finish(() => resolve(result));
        }
      });
      response.on('end', () => finish(() => resolve(result)));
      // The status is known; a body cut short or slow does not change the outcome.
      response.on('error', () => finish(() => resolve(result)));
      response.on('close', () => finish(() => resolve(result)));
    });
    request.on('error', (err: Error & { code?: string }) => {
      finish(() =>
        reject(err instanceof WebhookRequestError ? err : new WebhookRequestError(err.message, err.code ?? 'EREQUEST', elapsed())),
      );
    });
    request.end(body);
  });
}
