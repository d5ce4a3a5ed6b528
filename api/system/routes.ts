/**
 * Probes and problem documentation: `/live` (the process answers), `/ready` (PostgreSQL and Redis
 * answer and migrations are current; 503 otherwise), `/health` (the full report, always 200 so
 * operators can read it while degraded), `/problems/:code` (what each problem type means).
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../../shared/errors.ts';
import { checkHealth } from '../../shared/health.ts';
import { VERSION } from '../../shared/version.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';

const DEPENDENCY_STATE = z
  .object({
    status: z.enum(['up', 'down']),
    latency_ms: z.number().optional().describe('Round trip of the check'),
    error: z.string().optional().describe('Why the check failed (an error code or a short message)'),
  })
  .openapi('DependencyState');

const DEPENDENCIES = z
  .object({
    postgres: DEPENDENCY_STATE,
    redis: DEPENDENCY_STATE,
    migrations: DEPENDENCY_STATE.extend({
      pending: z.array(z.string()).optional().describe('Migrations not yet applied'),
    }),
  })
  .openapi('Dependencies');

const HEALTH_REPORT = z
  .object({
    status: z.enum(['ok', 'degraded']),
    version: z.string(),
    uptime_s: z.number().int(),
    dependencies: DEPENDENCIES,
  })
  .openapi('HealthReport');

const READINESS = z
  .object({ status: z.enum(['ready', 'unavailable']), dependencies: DEPENDENCIES })
  .openapi('Readiness');

const SERVICE_INDEX = z
  .object({
    name: z.literal('catalytic'),
    version: z.string(),
    description: z.string(),
    links: z.object({ docs: z.string(), openapi: z.string(), health: z.string(), plans: z.string(), register: z.string() }),
  })
  .openapi('ServiceIndex');

const PROBLEM_TYPE = z
  .object({ type: z.string(), code: z.string(), status: z.number().int(), title: z.string() })
  .openapi('ProblemType');

export function systemRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { runtime } = deps;

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/',
    summary: 'What this service is, and where to start',
    tags: ['Operations'],
    auth: 'public',
    responses: { 200: { description: 'The service, its version and links', schema: SERVICE_INDEX } },
    handler: (ctx) => {
      ctx.body = {
        name: 'catalytic',
        version: VERSION,
        description: 'Multi-tenant compute cluster for lattice jobs',
        links: { docs: '/docs', openapi: '/openapi.json', health: '/health', plans: '/api/plans', register: '/api/tenants/register' },
      };
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/live',
    summary: 'Liveness: the process answers',
    tags: ['Operations'],
    auth: 'public',
    responses: { 200: { description: 'The process is up', schema: z.object({ status: z.literal('ok') }) } },
    handler: (ctx) => {
      ctx.body = { status: 'ok' };
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/ready',
    summary: 'Readiness: PostgreSQL and Redis answer and migrations are current',
    tags: ['Operations'],
    auth: 'public',
    responses: {
      200: { description: 'Ready to serve', schema: READINESS },
      503: { description: 'A dependency is down or migrations are pending', schema: READINESS },
    },
    handler: async (ctx) => {
      const report = await checkHealth(runtime);
      ctx.status = report.status === 'ok' ? 200 : 503;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { status: report.status === 'ok' ? 'ready' : 'unavailable', dependencies: report.dependencies };
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/health',
    summary: 'Health report: version, uptime, and each dependency with its latency',
    tags: ['Operations'],
    auth: 'public',
    responses: { 200: { description: 'The report (200 even while degraded)', schema: HEALTH_REPORT } },
    handler: async (ctx) => {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = await checkHealth(runtime);
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/problems/:code',
    summary: 'What a problem type means',
    tags: ['Operations'],
    auth: 'public',
    params: z.object({ code: z.string().describe('A problem code, e.g. `validation_failed`') }),
    responses: { 200: { description: 'The problem type', schema: PROBLEM_TYPE } },
    handler: (ctx, { params }) => {
      if (!Object.hasOwn(ERROR_CATALOGUE, params.code)) throw new AppError('not_found', `No problem type ${params.code}`);
      const code = params.code as ErrorCode;
      ctx.body = { type: `/problems/${code}`, code, ...ERROR_CATALOGUE[code] };
    },
  });

  return router;
}
