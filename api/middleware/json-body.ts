/**
 * JSON request bodies only, with a size limit, read only once the caller is known. On every
 * request this middleware checks what the headers say: another media type on a request that has
 * a body is a 415, a declared length over the limit a 413. The body itself is read and parsed by
 * {@link jsonBodyReader}, which routes call after authentication (and its rate limits), so an
 * unauthenticated megabyte costs nothing but its bytes on the socket; a route's cheap checks of
 * the raw text (plan bounds on list lengths) may refuse it before it is parsed.
 *
 * Malformed JSON is a 400, and so (as a validation error naming the field) is JSON nested too deep
 * or with strings PostgreSQL cannot store, see json-limits.ts; a body found over the limit while
 * reading is a 413 — each as problem+json.
 */
import { bodyParser } from '@koa/bodyparser';
import { AppError } from '../../shared/errors.ts';
import type { ApiContext, ApiMiddleware } from '../state.ts';
import { jsonBodyProblem } from './json-limits.ts';

/**
 * Reads and checks a request's JSON body; undefined when it has none. `beforeParse` sees the raw
 * text first, and may refuse it before any of it is parsed.
 */
export type JsonBodyReader = (ctx: ApiContext, beforeParse?: (text: string) => Promise<void>) => Promise<unknown>;

// As strict JSON bodies always were: an object or an array, nothing else at the top.
const OBJECT_OR_ARRAY = /^[ \t\n\r]*[[{]/;

/** A body's text as JSON: an empty body is `{}`, anything but an object or array is not JSON the API takes. */
function parseJson(text: string): unknown {
  if (text === '') return {};
  if (!OBJECT_OR_ARRAY.test(text)) throw new AppError('invalid_json', 'The body is not valid JSON');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError('invalid_json', 'The body is not valid JSON');
  }
}

/** Routes (`METHOD path`) whose bodies are uploads their handler streams and checks itself. */
export const RAW_BODY_ROUTES: ReadonlySet<string> = new Set(['POST /api/lattices/upload']);

export function jsonBody(limitBytes: number): ApiMiddleware {
  return async (ctx, next) => {
    if (RAW_BODY_ROUTES.has(`${ctx.method} ${ctx.path}`)) return next();
    const hasBody = ctx.request.length > 0 || ctx.get('transfer-encoding') !== '';
    if (hasBody && ['POST', 'PUT', 'PATCH'].includes(ctx.method) && !ctx.request.is('application/json', '+json')) {
      throw new AppError('unsupported_media_type', 'Send the body as application/json');
    }
    if (hasBody && ctx.request.length > limitBytes) {
      throw new AppError('payload_too_large', `The body exceeds ${limitBytes} bytes`);
    }
    await next();
  };
}

/**
 * The reader of bodies up to `limitBytes`: reads the text once per request, lets `beforeParse`
 * look at it, then parses it and answers from `ctx.request.body`.
 */
export function jsonBodyReader(limitBytes: number): JsonBodyReader {
  // Read as text (the media type was checked by `jsonBody`), so that it can be looked at before parsing.
  const read = bodyParser({
    enableTypes: ['text'],
    extendTypes: { text: ['application/json', '+json'] },
    textLimit: limitBytes,
    encoding: 'utf-8',
    onError: (err) => {
      const status = (err as { status?: number }).status;
      if (status === 413) throw new AppError('payload_too_large', `The body exceeds ${limitBytes} bytes`);
      if (status === 415) throw new AppError('unsupported_media_type', err.message);
      throw new AppError('invalid_json', 'The body is not valid JSON');
    },
  });
  const parsed = new WeakSet<ApiContext>();
  return async (ctx, beforeParse) => {
    if (parsed.has(ctx)) return ctx.request.body;
    if (ctx.request.body === undefined) await read(ctx, async () => undefined);
    const text = ctx.request.body;
    if (typeof text !== 'string') {
      parsed.add(ctx);
      return text;
    }
    await beforeParse?.(text);
    const body = parseJson(text);
    const problem = jsonBodyProblem(body);
    if (problem) {
      throw new AppError('validation_failed', `${problem.path}: ${problem.message}`, { extra: { errors: [problem] } });
    }
    ctx.request.body = body;
    parsed.add(ctx);
    return body;
  };
}
