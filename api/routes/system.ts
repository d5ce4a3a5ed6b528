/**
 * Probes and problem documentation: `/live` (the process answers), `/ready` (PostgreSQL and Redis
 * answer and migrations are current; 503 otherwise), `/health` (the full report, always 200 so
 * operators can read it while degraded), `/problems/:code` (what each problem type means).
 */
import Router from '@koa/router';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../../shared/errors.ts';
import { checkHealth } from '../../shared/health.ts';
import type { ApiDeps, ApiState } from '../state.ts';

export function systemRoutes({ runtime }: ApiDeps): Router<ApiState> {
  const router = new Router<ApiState>();

  router.get('/live', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/ready', async (ctx) => {
    const report = await checkHealth(runtime);
    ctx.status = report.status === 'ok' ? 200 : 503;
    ctx.body = { status: report.status === 'ok' ? 'ready' : 'unavailable', dependencies: report.dependencies };
  });

  router.get('/health', async (ctx) => {
    ctx.body = await checkHealth(runtime);
  });

  router.get('/problems/:code', (ctx) => {
    const code = ctx.params.code as ErrorCode;
    if (!Object.hasOwn(ERROR_CATALOGUE, code)) throw new AppError('not_found', `No problem type ${ctx.params.code}`);
    ctx.body = { type: `/problems/${code}`, code, ...ERROR_CATALOGUE[code] };
  });

  return router;
}
