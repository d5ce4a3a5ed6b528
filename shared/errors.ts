/**
 * One catalogue of error codes with their HTTP status and title. The API turns an AppError into an
 * RFC 9457 problem+json body whose `type` is stable per code; anything else becomes a 500 whose
 * details stay in the logs.
 */

export const ERROR_CATALOGUE = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  invalid_json: { status: 400, title: 'The body is not valid JSON' },
  lattice_invalid: { status: 400, title: 'The lattice is not valid' },
  too_many_cells: { status: 400, title: 'The lattice has more than 2^32 cells' },
  cell_out_of_bounds: { status: 400, title: 'A cell lies outside the lattice' },
  params_invalid: { status: 400, title: 'The job parameters are not valid' },
  upload_invalid: { status: 400, title: 'The uploaded obstacle map is not valid' },
  upload_truncated: { status: 400, title: 'The upload ended before its format said it would' },
  slice_invalid: { status: 400, title: 'The slice does not pick a 2-D plane of the lattice' },
  range_not_satisfiable: { status: 416, title: 'The requested range is not satisfiable' },
  link_invalid: { status: 400, title: 'The link is not valid, was already used or has expired' },
  unauthorized: { status: 401, title: 'Authentication is required' },
  invalid_token: { status: 401, title: 'The credentials are not valid' },
  invalid_credentials: { status: 401, title: 'The email or password is wrong' },
  plan_limit_exceeded: { status: 402, title: 'The plan does not allow this' },
  forbidden: { status: 403, title: 'Not allowed' },
  email_unverified: { status: 403, title: 'Confirm your email address first' },
  insufficient_scope: { status: 403, title: 'The credentials lack a required scope' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  not_acceptable: { status: 406, title: 'Not acceptable' },
  conflict: { status: 409, title: 'Conflict' },
  idempotency_conflict: { status: 409, title: 'The Idempotency-Key was used with a different request' },
  job_not_finished: { status: 409, title: 'The job has no result yet' },
  job_finished: { status: 409, title: 'The job has already finished' },
  job_without_result: { status: 409, title: 'The job ended without a result' },
  request_timeout: { status: 408, title: 'The request took too long to arrive' },
  gone: { status: 410, title: 'Gone' },
  payload_too_large: { status: 413, title: 'The body is too large' },
  job_too_large: { status: 422, title: 'The job needs more memory than a worker holds' },
  batch_invalid: { status: 422, title: 'Some jobs of the batch were refused; nothing was written' },
  unsupported_media_type: { status: 415, title: 'The body must be application/json' },
  expectation_failed: { status: 417, title: 'The Expect header cannot be met' },
  headers_too_large: { status: 431, title: 'The request headers are too large' },
  rate_limited: { status: 429, title: 'Too many requests' },
  quota_exceeded: { status: 429, title: 'The plan quota is used up' },
  internal: { status: 500, title: 'Internal error' },
  service_unavailable: { status: 503, title: 'The service is unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Base of problem `type` URIs; `GET /problems/<code>` documents each. */
export const PROBLEM_TYPE_BASE = '/problems/';

export function problemType(code: ErrorCode): string {
  return `${PROBLEM_TYPE_BASE}${code}`;
}

export interface AppErrorOptions {
  /** Extension members added to the problem body (e.g. `errors`, `limit`). Never put secrets here. */
  extra?: Record<string, unknown>;
  /** HTTP headers to send with the problem (e.g. `Retry-After`). */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** An error the client may read: code, status and detail become the problem+json body. */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: number;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(readonly code: ErrorCode, detail?: string, options: AppErrorOptions = {}) {
    super(detail ?? ERROR_CATALOGUE[code].title, { cause: options.cause });
    this.status = ERROR_CATALOGUE[code].status;
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** The RFC 9457 body for an error code. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: ErrorCode;
  [extension: string]: unknown;
}

export function toProblem(err: AppError, instance?: string): ProblemBody {
  return {
    ...err.extra,
    type: problemType(err.code),
    title: ERROR_CATALOGUE[err.code].title,
    status: err.status,
    detail: err.message,
    code: err.code,
    ...(instance ? { instance } : {}),
  };
}

/** Reads `code` from anything thrown, including errors that crossed a thread boundary. */
export function errorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** Network and connection failures worth retrying, as opposed to errors in the work itself. */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

/**
 * PostgreSQL refusing work for want of resources (class 53): above all 53300, `too many clients
 * already` / `too many connections for role`, which a new pooled connection gets once the server's
 * `max_connections` (or the role's or database's connection limit) is taken — under load, when
 * every process holds its connections longer. The request is fine; the server is overloaded.
 */
const OVERLOAD_CODES = new Set([
  '53000', // insufficient_resources
  '53200', // out_of_memory
  '53300', // too_many_connections
]);

/**
 * Whether the error says a dependency is overloaded rather than that the request is wrong: no
 * connection to be had — PostgreSQL refused one (class 53), did not finish accepting one within
 * the connect timeout (node-postgres's bare `timeout expired`, which a server slowed by load gives
 * as a pooled connection is made), or this process's own pool had none free within its timeout.
 */
export function isOverloadError(err: unknown): boolean {
  const code = errorCode(err);
  if (code && OVERLOAD_CODES.has(code)) return true;
  const message = err instanceof Error ? err.message : String(err);
  return message === 'timeout expired' || /Knex: Timeout acquiring a connection/i.test(message);
}

/** One place decides "transient, retry" versus "real, report". */
export function isTransientError(err: unknown): boolean {
  if (isOverloadError(err)) return true;
  const code = errorCode(err);
  if (code && TRANSIENT_CODES.has(code)) return true;
  const message = err instanceof Error ? err.message : String(err);
  // node-postgres says "not queryable" of a pooled client whose server went away mid-transaction.
  return /Connection is closed|connect ECONNREFUSED|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable/i.test(
    message,
  );
}

/** Turns any thrown value into an Error, for `catch (err: unknown)` sites. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
