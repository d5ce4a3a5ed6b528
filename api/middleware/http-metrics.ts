/**
 * Times every request into `catalytic_http_request_duration_seconds`, labelled by method, the
 * route *pattern* that matched (`/api/jobs/:id`, never the concrete path) and the status class,
 * so the label set stays bounded whatever clients send. Requests no route matched share the
 * `unmatched` label.
 */
import { httpRequestDuration, statusClass } from '../../shared/metrics.ts';
import type { ApiMiddleware } from '../state.ts';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function httpMetrics(): ApiMiddleware {
  return async (ctx, next) => {
    const stop = httpRequestDuration.startTimer();
    try {
      await next();
    } finally {
      const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      stop({
        method: METHODS.has(ctx.method) ? ctx.method : 'OTHER',
        route: matched === undefined ? 'unmatched' : String(matched),
        status: statusClass(ctx.status),
      });
    }
  };
}
