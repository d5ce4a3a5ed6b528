/**
 * `GET /metrics`: the process's Prometheus registry in text format. In `catalytic all` the API,
 * the worker and the scheduler share the process and so this one registry. When METRICS_TOKEN is
 * set the scrape needs `Authorization: Bearer <token>`. In production without a token it is not
 * served on the API's port at all (404) but on METRICS_PORT (launcher/roles.ts starts that server).
 * The API also reports queue depth (ApiServer installs the source while it runs).
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { metricsOnApiPort } from '../../shared/config.ts';
import { AppError } from '../../shared/errors.ts';
import { registry as metricsRegistry } from '../../shared/metrics.ts';
import { bearerMatches } from '../../shared/safe-equal.ts';
import { PROBLEM_SCHEMA } from '../openapi-registry.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';

export const METRICS_SECURITY_SCHEME = 'metricsToken';

export function metricsRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { config } = deps.runtime;
  const onApiPort = metricsOnApiPort(config);

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics of this process (text exposition format)',
    tags: ['Operations'],
    auth: 'public',
    responses: {
      200: { description: 'Metrics in the Prometheus text format', schema: z.string(), contentType: 'text/plain; version=0.0.4' },
      401: {
        description: 'METRICS_TOKEN is set and the request does not carry it',
        schema: PROBLEM_SCHEMA,
        contentType: 'application/problem+json',
      },
    },
    handler: async (ctx) => {
      if (!onApiPort) throw new AppError('not_found', 'No route for GET /metrics');
      if (!bearerMatches(config.METRICS_TOKEN, ctx.get('authorization'))) {
        throw new AppError('unauthorized', 'Send `Authorization: Bearer <METRICS_TOKEN>`', {
          headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' },
        });
      }
      ctx.set('Cache-Control', 'no-store');
      ctx.type = metricsRegistry.contentType;
      ctx.body = await metricsRegistry.metrics();
    },
  });

  // defineRoute documents public routes without security; this one has an optional token.
  registry.registerComponent('securitySchemes', METRICS_SECURITY_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description: 'METRICS_TOKEN, when the deployment sets one',
  });
  for (const definition of registry.definitions) {
    if (definition.type === 'route' && definition.route.path === '/metrics') {
      definition.route.security = [{ [METRICS_SECURITY_SCHEME]: [] }, {}];
    }
  }
  return router;
}
