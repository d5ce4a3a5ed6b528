/**
 * Errors the SDK throws. An HTTP error answer becomes a {@link CatalyticApiError} carrying the
 * RFC 9457 problem fields, so callers branch on `code` or `status` rather than on messages.
 */

/** One field-level complaint of a `validation_failed` problem. */
export interface ProblemFieldError {
  path: string;
  message: string;
}

/** The problem+json body the API answers errors with (RFC 9457 plus `code`). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** Stable error code from the server's catalogue, e.g. `not_found`, `rate_limited`. */
  code: string;
  /** Present on `validation_failed`. */
  errors?: ProblemFieldError[];
  [extension: string]: unknown;
}

/** Base class of every error the SDK throws, so `instanceof CatalyticError` catches them all. */
export class CatalyticError extends Error {
  override name = 'CatalyticError';
}

/** The API answered with an error status. */
export class CatalyticApiError extends CatalyticError {
  override name = 'CatalyticApiError';
  readonly status: number;
  readonly code: string;
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly instance: string | undefined;
  readonly errors: ProblemFieldError[];
  /** The whole problem body, extension members included. */
  readonly problem: Problem;
  /** The request that failed, e.g. `GET /api/jobs/…`. */
  readonly request: string;
  /** `X-Request-Id` of the answer, for support. */
  readonly requestId: string | undefined;
  /** Milliseconds the server asked to wait (Retry-After), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(problem: Problem, init: { request: string; requestId?: string; retryAfterMs?: number }) {
    super(problem.detail ?? problem.title);
    this.problem = problem;
    this.status = problem.status;
    this.code = problem.code;
    this.type = problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.instance = problem.instance;
    this.errors = problem.errors ?? [];
    this.request = init.request;
    this.requestId = init.requestId;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** 401 or 403: the credentials are missing, invalid or not allowed to do this. */
  get isAuthError(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/** The API could not be reached (connection refused, reset, DNS) or answered something unreadable. */
export class CatalyticConnectionError extends CatalyticError {
  override name = 'CatalyticConnectionError';
  constructor(
    message: string,
    readonly request: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No credentials were configured for a call that needs them. */
export class CatalyticAuthRequiredError extends CatalyticError {
  override name = 'CatalyticAuthRequiredError';
}

/** Builds a problem from an answer that was not problem+json (a proxy's HTML page, say). */
export function problemFromStatus(status: number, statusText: string, text: string): Problem {
  const code =
    status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : status === 404 ? 'not_found' : status === 429 ? 'rate_limited' : status >= 500 ? (status === 503 ? 'service_unavailable' : 'internal') : 'http_error';
  return {
    type: 'about:blank',
    title: statusText || `HTTP ${status}`,
    status,
    code,
    detail: text.trim().slice(0, 200) || statusText || `HTTP ${status}`,
  };
}

/** Reads a problem body, tolerating missing fields. */
export function toProblem(body: unknown, status: number, statusText: string): Problem {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    return {
      ...b,
      type: typeof b.type === 'string' ? b.type : 'about:blank',
      title: typeof b.title === 'string' ? b.title : statusText || `HTTP ${status}`,
      status: typeof b.status === 'number' ? b.status : status,
      code: typeof b.code === 'string' ? b.code : problemFromStatus(status, statusText, '').code,
      ...(typeof b.detail === 'string' ? { detail: b.detail } : {}),
      ...(typeof b.instance === 'string' ? { instance: b.instance } : {}),
      ...(Array.isArray(b.errors) ? { errors: b.errors as ProblemFieldError[] } : {}),
    };
  }
  return problemFromStatus(status, statusText, typeof body === 'string' ? body : '');
}
