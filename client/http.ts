/**
 * The SDK's transport: JSON over fetch against one base URL, with authentication (an API key, or
 * an access token refreshed once on 401 with its refresh token), problem+json errors turned into
 * {@link CatalyticApiError}, and retries on 429/503 that honour Retry-After.
 */
import type { TokenPair } from './api-types.ts';
import { CatalyticApiError, CatalyticAuthRequiredError, CatalyticConnectionError, toProblem } from './errors.ts';
import { RETRYABLE_STATUSES, type RetryOptions, parseRetryAfter, resolveRetryOptions, retryDelay, sleep } from './retry.ts';

/** Tokens of a signed-in user session. */
export interface SessionTokens {
  accessToken: string;
  refreshToken?: string;
  /** When the access token expires (ms since the epoch), when known. */
  accessTokenExpiresAt?: number;
  /** When the refresh token expires (ms since the epoch), when known. */
  refreshTokenExpiresAt?: number;
}

/** Turns a token answer into {@link SessionTokens}, stamping expiries against `now`. */
export function sessionTokensFrom(response: TokenPair, now: number = Date.now()): SessionTokens {
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token,
    accessTokenExpiresAt: now + response.expires_in * 1000,
    refreshTokenExpiresAt: now + response.refresh_expires_in * 1000,
  };
}

/** How a {@link HttpClient} connects and authenticates. */
export interface HttpClientOptions {
  /** The API's base URL, e.g. `https://catalytic.example.com` (a path prefix is kept). */
  baseUrl: string;
  /** An API key (`ck_…`); takes precedence over tokens. */
  apiKey?: string;
  /** A user session from `login`; refreshed on 401 when it has a refresh token. */
  tokens?: SessionTokens;
  /** Called whenever the session tokens change (refresh, login, logout), e.g. to save them. */
  onTokens?: (tokens: SessionTokens | undefined) => void | Promise<void>;
  retry?: RetryOptions;
  /**
   * Time limit of one attempt of a plain request, in ms (streams are limited only until their
   * headers arrive).
   * @defaultValue 30000
   */
  timeoutMs?: number;
  /** `User-Agent` sent with every request. @defaultValue `catalytic-sdk` */
  userAgent?: string;
  /** A fetch implementation. @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
}

type QueryValue = string | number | boolean | undefined | null;

/** One request. */
export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  body?: unknown;
  /**
   * A body that is not JSON (an upload), sent as it is: bytes, or a stream read once (so a request
   * with a stream is never repeated).
   */
  rawBody?: { data: Uint8Array | ReadableStream<Uint8Array>; contentType: string; length?: number };
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Send credentials. @defaultValue true */
  auth?: boolean;
  /**
   * Whether repeating the request is harmless, so a connection failure may be retried. GET,
   * HEAD and DELETE are; a POST is when it carries an Idempotency-Key.
   */
  idempotent?: boolean;
  /** An `Accept` other than JSON (e.g. `text/event-stream`). */
  accept?: string;
  /** This request's time limit per attempt, when longer than the client's (a long poll). */
  timeoutMs?: number;
}

/** A successful answer. */
export interface HttpResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** Refresh an access token this long before it expires, so a request does not race the expiry. */
const REFRESH_MARGIN_MS = 15_000;

export class HttpClient {
  readonly baseUrl: string;
  private apiKey: string | undefined;
  private tokens: SessionTokens | undefined;
  private readonly onTokens: HttpClientOptions['onTokens'];
  private readonly retry: Required<RetryOptions>;
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly fetchImpl: typeof fetch;
  /** The refresh in flight, shared by every request that needs it. */
  private refreshing: Promise<boolean> | undefined;

  constructor(options: HttpClientOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new TypeError(`options.baseUrl must be an absolute URL, got ${JSON.stringify(options.baseUrl)}`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new TypeError(`options.baseUrl must start with http:// or https://, got ${JSON.stringify(options.baseUrl)}`);
    }
    this.baseUrl = base.href.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.tokens = options.tokens;
    this.onTokens = options.onTokens;
    this.retry = resolveRetryOptions(options.retry);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    if (!(this.timeoutMs > 0)) throw new TypeError('options.timeoutMs must be a positive number');
    this.userAgent = options.userAgent ?? 'catalytic-sdk';
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  /** Whether an API key or session tokens are set. */
  get hasCredentials(): boolean {
    return Boolean(this.apiKey || this.tokens);
  }

  /** The current session tokens (after any refresh), if signed in with a user. */
  get sessionTokens(): SessionTokens | undefined {
    return this.tokens;
  }

  /** Replaces the session tokens (after login or logout) and reports them to `onTokens`. */
  async setTokens(tokens: SessionTokens | undefined): Promise<void> {
    this.tokens = tokens;
    if (tokens) this.apiKey = undefined;
    await this.onTokens?.(tokens);
  }

  /** Uses an API key from now on. */
  setApiKey(apiKey: string | undefined): void {
    this.apiKey = apiKey;
  }

  /** A URL under the base URL with a query string (undefined and null values left out). */
  url(path: string, query?: Record<string, QueryValue>): string {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    }
    return url.href;
  }

  /** Sends a request and parses its JSON answer; throws {@link CatalyticApiError} on an error status. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const response = await this.send(method, path, options, false);
    const text = await response.text();
    let body: unknown = undefined;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch (err) {
        throw new CatalyticConnectionError(`${method} ${path} answered ${response.status} with a body that is not JSON`, `${method} ${path}`, {
          cause: err,
        });
      }
    }
    return { status: response.status, headers: response.headers, body: body as T };
  }

  /**
   * Sends a request whose body is read as a stream (server-sent events). The time limit covers
   * only the wait for the headers; `options.signal` ends the stream.
   */
  async stream(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    return this.send(method, path, options, true);
  }

  private async send(method: string, path: string, options: RequestOptions, streaming: boolean): Promise<Response> {
    const label = `${method} ${path}`;
    // A streamed body can be sent once only.
    const once = options.rawBody !== undefined && !(options.rawBody.data instanceof Uint8Array);
    const idempotent = !once && (options.idempotent ?? ['GET', 'HEAD', 'DELETE'].includes(method));
    const wantsAuth = options.auth ?? true;
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      if (wantsAuth) await this.refreshIfExpiring();
      if (wantsAuth && !this.apiKey && !this.tokens?.accessToken) {
        throw new CatalyticAuthRequiredError('Not signed in: set an API key (CATALYTIC_API_KEY) or log in first');
      }
      let response: Response;
      try {
        response = await this.attempt(method, path, options, wantsAuth, streaming);
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason;
        const failure = new CatalyticConnectionError(`${label} failed: ${describeFetchError(err)}`, label, { cause: err });
        const delay = idempotent ? retryDelay(attempt, undefined, this.retry) : undefined;
        if (delay === undefined) throw failure;
        await sleep(delay, options.signal);
        continue;
      }
      // 304 answers a conditional request the caller made on purpose (If-None-Match).
      if (response.ok || response.status === 304) return response;

      const error = await toApiError(response, label);
      if (response.status === 401 && wantsAuth && !refreshed && !once && !this.apiKey && this.tokens?.refreshToken) {
        // The access token expired or was revoked: one refresh, then the same request again.
        refreshed = true;
        if (await this.refreshSession()) {
          attempt--;
          continue;
        }
      }
      if (RETRYABLE_STATUSES.has(response.status) && !once) {
        const delay = retryDelay(attempt, error.retryAfterMs, this.retry);
        if (delay !== undefined) {
          await sleep(delay, options.signal);
          continue;
        }
      }
      throw error;
    }
  }

  private async attempt(
    method: string,
    path: string,
    options: RequestOptions,
    wantsAuth: boolean,
    streaming: boolean,
  ): Promise<Response> {
    const headers: Record<string, string> = {
      accept: options.accept ?? 'application/json, application/problem+json',
      'user-agent': this.userAgent,
      ...options.headers,
    };
    const token = wantsAuth ? (this.apiKey ?? this.tokens?.accessToken) : undefined;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | Uint8Array | ReadableStream<Uint8Array> | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    } else if (options.rawBody !== undefined) {
      headers['content-type'] = options.rawBody.contentType;
      if (options.rawBody.length !== undefined) headers['content-length'] = String(options.rawBody.length);
      body = options.rawBody.data;
    }
    const timeout = new AbortController();
    const limitMs = Math.max(this.timeoutMs, options.timeoutMs ?? 0);
    const timer = setTimeout(
      () => timeout.abort(new CatalyticConnectionError(`${method} ${path} timed out after ${limitMs} ms`, `${method} ${path}`)),
      limitMs,
    );
    const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
    try {
      // A stream goes out as it is read (undici asks for half-duplex to say so).
      const init = { method, headers, body, signal, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit;
      const response = await this.fetchImpl(this.url(path, options.query), init);
      if (streaming) return response;
      // Read the body inside the time limit too: a server that stalls mid-body is a timeout.
      const text = await response.text();
      return new Response(text === '' && nullBodyStatus(response.status) ? null : text, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } catch (err) {
      if (timeout.signal.aborted && !options.signal?.aborted) throw timeout.signal.reason;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private async refreshIfExpiring(): Promise<void> {
    const tokens = this.tokens;
    if (this.apiKey || !tokens?.refreshToken || tokens.accessTokenExpiresAt === undefined) return;
    if (tokens.accessTokenExpiresAt - Date.now() > REFRESH_MARGIN_MS) return;
    await this.refreshSession();
  }

  /** Spends the refresh token for a new pair; resolves false when the API refuses it. */
  async refreshSession(): Promise<boolean> {
    this.refreshing ??= (async () => {
      const refreshToken = this.tokens?.refreshToken;
      if (!refreshToken) return false;
      try {
        const { body } = await this.request<TokenPair>('POST', '/auth/refresh', {
          body: { refresh_token: refreshToken },
          auth: false,
        });
        await this.setTokens(sessionTokensFrom(body));
        return true;
      } catch (err) {
        if (err instanceof CatalyticApiError && err.isAuthError) return false;
        throw err;
      }
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }
}

function nullBodyStatus(status: number): boolean {
  return status === 204 || status === 205 || status === 304;
}

/** Reads an error answer into a {@link CatalyticApiError}. */
export async function toApiError(response: Response, request: string): Promise<CatalyticApiError> {
  const text = await response.text().catch(() => '');
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's error page): keep the text for the detail.
  }
  return new CatalyticApiError(toProblem(body, response.status, response.statusText), {
    request,
    requestId: response.headers.get('x-request-id') ?? undefined,
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
  });
}

function describeFetchError(err: unknown): string {
  if (err instanceof CatalyticConnectionError) return err.message;
  // fetch says only "fetch failed"; the reason (ECONNREFUSED, a DNS failure, a bad port) is its cause.
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  if (cause?.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}
