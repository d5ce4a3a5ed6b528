/**
 * The Koa application: request id, access log, problem errors, draining, the cap on failing
 * anonymous callers, JSON bodies, routes.
 * Tests drive `createApp(...).callback()`; `ApiServer` serves it over HTTP.
 */
import Koa from 'koa';
import { errorCode } from '../shared/errors.ts';
import { accessLog } from './middleware/access-log.ts';
import { type DrainSwitch, rejectWhileDraining } from './middleware/draining.ts';
import { httpMetrics } from './middleware/http-metrics.ts';
import { jsonBody } from './middleware/json-body.ts';
import { problemErrors } from './middleware/problem-errors.ts';
import { requestFacts, requestId } from './middleware/request-id.ts';
import { capUnauthenticatedRequests } from './middleware/unauthenticated-cap.ts';
import { createOpenApiRegistry } from './openapi-registry.ts';
import { mountRoutes } from './routes.ts';
import type { ApiContext, ApiDeps, ApiState } from './state.ts';

const CLIENT_GONE = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'EPIPE']);

export function createApp(deps: ApiDeps, drain: DrainSwitch = { draining: false }): Koa<ApiState> {
  const { config, logger } = deps.runtime;
  const app = new Koa<ApiState>({ proxy: config.TRUST_PROXY });
  app.silent = true;
  // Errors are answered and logged by problemErrors; this catches what escapes a response. A
  // client that goes away mid-response (an event stream closed, a reset) is routine, not an error.
  app.on('error', (err: unknown, ctx?: ApiContext) => {
    const facts = ctx ? requestFacts(ctx) : {};
    if (CLIENT_GONE.has(errorCode(err) ?? '')) logger.debug({ ...facts, err }, 'client closed the connection mid-response');
    else logger.error({ ...facts, err }, 'unhandled application error');
  });

  app.use(requestId());
  app.use(accessLog(logger));
  app.use(httpMetrics());
  app.use(problemErrors(logger));
  app.use(rejectWhileDraining(drain));
  app.use(capUnauthenticatedRequests(config.RATE_LIMIT_UNAUTHENTICATED_PER_SECOND));
  app.use(jsonBody(config.BODY_LIMIT_BYTES));
  mountRoutes(app, deps, createOpenApiRegistry());
  return app;
}
