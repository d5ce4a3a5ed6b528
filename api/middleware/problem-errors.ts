/**
 * The one place errors become responses: an AppError becomes its RFC 9457 problem+json; an
 * HTTP error raised by Koa or a library (`err.expose`) keeps its status; PostgreSQL or Redis
 * unreachable, or overloaded (no connection to be had: too many clients, pool exhausted), is a
 * 503 with Retry-After (clients retry those); anything else is a 500 whose details go to the log only.
 */
import { AppError, ERROR_CATALOGUE, type ErrorCode, isAppError, isOverloadError, isTransientError, toProblem } from '../../shared/errors.ts';
import type { Logger } from '../../shared/logger.ts';
import { requestFacts } from './request-id.ts';
import type { ApiContext, ApiMiddleware } from '../state.ts';

const CODE_FOR_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  410: 'gone',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
};

/** Retry-After of an overload 503: a little longer than a blip's, so retries do not pile on. */
export const OVERLOAD_RETRY_AFTER_S = 2;

interface HttpLikeError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
  headers?: Record<string, string>;
}

/** Maps anything thrown to an AppError, keeping only what a client may read. */
export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  const e = (err ?? {}) as HttpLikeError;
  const status = e.status ?? e.statusCode;
  if (status && status >= 400 && status < 500 && e.expose !== false) {
    const code = CODE_FOR_STATUS[status] ?? 'validation_failed';
    return new AppError(code, e.message, { headers: e.headers, cause: err });
  }
  if (status === 503) return new AppError('service_unavailable', undefined, { cause: err });
  if (isOverloadError(err)) {
    return new AppError('service_unavailable', 'The service is overloaded; retry shortly', { headers: { 'Retry-After': String(OVERLOAD_RETRY_AFTER_S) }, cause: err });
  }
  if (isTransientError(err)) {
    return new AppError('service_unavailable', 'A service this request needs is unreachable; retry shortly', { headers: { 'Retry-After': '1' }, cause: err });
  }
  return new AppError('internal', ERROR_CATALOGUE.internal.title, { cause: err });
}

export function sendProblem(ctx: ApiContext, error: AppError): void {
  ctx.status = error.status;
  // A refusal before the body was read (no credentials, too large): close the connection after
  // the answer instead of draining the rest of the upload, which a tenant-less client could use
  // to keep the event loop busy with megabytes nobody reads.
  if (!ctx.req.complete) ctx.set('Connection', 'close');
  for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
  ctx.type = 'application/problem+json';
  ctx.body = toProblem(error, ctx.path);
}

export function problemErrors(logger: Logger): ApiMiddleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        sendProblem(ctx, new AppError('not_found', `No route for ${ctx.method} ${ctx.path}`));
      }
    } catch (err) {
      const error = toAppError(err);
      if (error.status >= 500) logger.error({ ...requestFacts(ctx), err }, 'request failed');
      sendProblem(ctx, error);
    }
  };
}
