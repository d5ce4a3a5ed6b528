/**
 * An HTTP client over several API processes, as a client behind a load balancer sees them: each
 * request goes to the next API, and a request that fails because an API died, is overloaded or
 * has lost a dependency (connection errors, 429, 503 — what the SDK retries too) is retried on
 * another one. POSTs carry an Idempotency-Key, so a retry after a lost answer never makes a
 * second job. A 500 is not retried: it is a bug, and the suites count it.
 */
import { randomUUID } from 'node:crypto';

export interface ApiClientOptions {
  /** The API base URLs to use, read at each attempt (processes come and go). */
  urls: () => string[];
  /** Give up after retrying this long. @defaultValue 60000 */
  retryForMs?: number;
  /** One attempt's time limit. @defaultValue 15000 */
  attemptTimeoutMs?: number;
}

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
  /** Attempts made (1 = no retry). */
  attempts: number;
  /** The API that answered. */
  url: string;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Retry after connection errors, 429 and 503. @defaultValue true for GET and for POST with an idempotency key */
  retry?: boolean;
  /** Sent as Idempotency-Key (POST); `true` makes a fresh one. */
  idempotencyKey?: string | true;
}

const RETRY_STATUSES = new Set([429, 503]);

export class ApiClient {
  private next = 0;
  /** Requests retried after a failed attempt, and attempts that failed at the connection. */
  readonly stats = { retries: 0, connectionErrors: 0, retryStatuses: 0 };

  constructor(private readonly options: ApiClientOptions) {}

  private pick(): string {
    const urls = this.options.urls();
    if (urls.length === 0) throw new Error('no API process is running');
    return urls[this.next++ % urls.length] as string;
  }

  async request<T = unknown>(path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
    const key = options.idempotencyKey === true ? randomUUID() : options.idempotencyKey;
    const retry = options.retry ?? (method === 'GET' || key !== undefined);
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (key) headers['idempotency-key'] = key;
    const deadline = Date.now() + (this.options.retryForMs ?? 60_000);
    let attempts = 0;
    let delay = 100;
    for (;;) {
      attempts++;
      let url = '';
      try {
        url = this.pick();
        const response = await fetch(`${url}${path}`, {
          method,
          headers,
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.timeout(this.options.attemptTimeoutMs ?? 15_000),
        });
        const text = await response.text();
        const body = (text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T;
        if (!retry || !RETRY_STATUSES.has(response.status) || Date.now() > deadline) {
          return { status: response.status, body, headers: response.headers, attempts, url };
        }
        this.stats.retryStatuses++;
        const retryAfter = Number(response.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) delay = Math.min(retryAfter * 1000, 5000);
      } catch (err) {
        if (!retry || Date.now() > deadline) throw new Error(`${method} ${url}${path} failed after ${attempts} attempts: ${(err as Error).message}`, { cause: err });
        this.stats.connectionErrors++;
      }
      this.stats.retries++;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 1000);
    }
  }
}
