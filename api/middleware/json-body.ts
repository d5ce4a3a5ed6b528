/**
 * JSON request bodies only, with a size limit. Malformed JSON is a 400, and so (as a validation
 * error naming the field) is JSON nested too deep or with strings PostgreSQL cannot store, see
 * json-limits.ts; an oversized body is a 413, another media type on a request that has a body a
 * 415 — each as problem+json.
 */
import { bodyParser } from '@koa/bodyparser';
import { AppError } from '../../shared/errors.ts';
import type { ApiMiddleware } from '../state.ts';
import { jsonBodyProblem } from './json-limits.ts';

export function jsonBody(limitBytes: number): ApiMiddleware {
  const parse = bodyParser({
    enableTypes: ['json'],
    jsonLimit: limitBytes,
    encoding: 'utf-8',
    onError: (err) => {
      const status = (err as { status?: number }).status;
      if (status === 413) throw new AppError('payload_too_large', `The body exceeds ${limitBytes} bytes`);
      if (status === 415) throw new AppError('unsupported_media_type', err.message);
      throw new AppError('invalid_json', 'The body is not valid JSON');
    },
  });
  return async (ctx, next) => {
    const hasBody = ctx.request.length > 0 || ctx.get('transfer-encoding') !== '';
    if (hasBody && ['POST', 'PUT', 'PATCH'].includes(ctx.method) && !ctx.request.is('application/json', '+json')) {
      throw new AppError('unsupported_media_type', 'Send the body as application/json');
    }
    if (hasBody && ctx.request.length > limitBytes) {
      throw new AppError('payload_too_large', `The body exceeds ${limitBytes} bytes`);
    }
    await parse(ctx, async () => {
      const problem = jsonBodyProblem(ctx.request.body);
      if (problem) {
        throw new AppError('validation_failed', `${problem.path}: ${problem.message}`, { extra: { errors: [problem] } });
      }
      await next();
    });
  };
}
