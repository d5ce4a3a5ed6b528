/** One log line per request: method, route path, status and duration. */
import type { Logger } from '../../shared/logger.ts';
import type { ApiMiddleware } from '../state.ts';

export function accessLog(logger: Logger): ApiMiddleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      const level = ctx.status >= 500 ? 'error' : 'info';
      logger[level]({ method: ctx.method, path: ctx.path, status: ctx.status, durationMs }, `${ctx.method} ${ctx.path} ${ctx.status} ${durationMs} ms`);
    }
  };
}
