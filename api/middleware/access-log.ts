/**
 * One log line per request: its id, tenant and user, method, route path, status and duration.
 * Nothing is built for a line the level drops (production runs at `info`, load tests at `warn`,
 * where only 5xx lines remain).
 */
import type { Logger } from '../../shared/logger.ts';
import type { ApiMiddleware } from '../state.ts';
import { requestFacts } from './request-id.ts';

export function accessLog(logger: Logger): ApiMiddleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const level = ctx.status >= 500 ? 'error' : 'info';
      if (logger.isLevelEnabled(level)) {
        const durationMs = Math.round((performance.now() - started) * 10) / 10;
        logger[level]({ ...requestFacts(ctx), method: ctx.method, path: ctx.path, status: ctx.status, durationMs }, `${ctx.method} ${ctx.path} ${ctx.status} ${durationMs} ms`);
      }
    }
  };
}
