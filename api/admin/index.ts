/**
 * The operator surface: bull-board at `/admin/queues`, behind operator credentials. Read-only
 * unless `ADMIN_READ_ONLY=false`. When no operator credential is configured the board does not
 * exist (404), so a forgotten password never means an open board.
 *
 * The board is deliberately left out of the OpenAPI document: it is a UI with its own private
 * JSON API, not part of the tenant-facing contract.
 */
import Router, { type RouterMiddleware } from '@koa/router';
import { AppError } from '../../shared/errors.ts';
import type { ApiDeps, ApiState } from '../state.ts';
import { operatorAccessConfigured, requireOperator } from './operator-auth.ts';
import { OperatorLockout } from './operator-lockout.ts';
import { ADMIN_QUEUES_PATH, QueueBoard } from './queue-board.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD']);

interface MatchedRoute {
  _matchedRoute?: string | RegExp;
}

export function adminRoutes({ runtime, queues }: ApiDeps): Router<ApiState> {
  const router = new Router<ApiState>();
  const { config } = runtime;
  if (!operatorAccessConfigured(config)) return router;

  let board: QueueBoard | undefined;
  const lockout = new OperatorLockout(runtime.redis, config.REDIS_PREFIX);
  const serveBoard: RouterMiddleware<ApiState> = async (ctx, next) => {
    await requireOperator(ctx, config, lockout);
    if (!SAFE_METHODS.has(ctx.method)) {
      if (config.ADMIN_READ_ONLY) {
        throw new AppError('method_not_allowed', 'The queue board is read-only (ADMIN_READ_ONLY=true)', {
          headers: { Allow: 'GET, HEAD' },
        });
      }
      // Basic credentials ride along on cross-site requests; actions must come from the board itself.
      if (ctx.get('sec-fetch-site') === 'cross-site') throw new AppError('forbidden', 'Cross-site requests cannot change queues');
    }
    board ??= new QueueBoard(queues, { readOnly: config.ADMIN_READ_ONLY });
    await board.refresh();
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    // The board's own router overwrites the matched route; metrics keep the mount's pattern.
    const matched = (ctx as MatchedRoute)._matchedRoute;
    try {
      await board.middleware(ctx, next);
    } finally {
      (ctx as MatchedRoute)._matchedRoute = matched;
    }
  };

  // The methods bull-board uses; anything else is 405 from allowedMethods.
  const path = `${ADMIN_QUEUES_PATH}{/*rest}`;
  router.get(path, serveBoard).post(path, serveBoard).put(path, serveBoard).patch(path, serveBoard).delete(path, serveBoard);
  return router;
}
