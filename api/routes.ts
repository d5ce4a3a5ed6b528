/**
 * Every router of the API, mounted in order. A new resource exports `xxxRoutes(deps, registry)`
 * (declaring its routes with `defineRoute`) and is added to ROUTE_MODULES.
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import type Koa from 'koa';
import { AppError } from '../../shared/errors.ts';
import type { ApiDeps, ApiState } from '../state.ts';
import { adminRoutes } from '../admin/index.ts';
import { adminPlanRequestRoutes } from './admin-plan-requests.ts';
import { docsRoutes } from './docs.ts';
import { metricsRoutes } from './metrics.ts';
import { systemRoutes } from './system.ts';
import { webhookRoutes } from './webhooks.ts';
import { jobRoutes } from './jobs.ts';
import { latticeRoutes } from './lattices.ts';
import { apiKeyRoutes } from './api-keys.ts';
import { authRoutes } from './auth.ts';
import { meRoutes } from './me.ts';
import { planRoutes } from './plans.ts';
import { subscriptionRoutes } from './subscription.ts';
import { tenantRoutes } from './tenants.ts';
import { usageRoutes } from './usage.ts';

const methodNotAllowed = (): AppError => new AppError('method_not_allowed', 'No route answers this method');

type RouteModule = (deps: ApiDeps, registry: OpenAPIRegistry) => Router<ApiState>;

const ROUTE_MODULES: RouteModule[] = [systemRoutes, metricsRoutes, docsRoutes, adminRoutes, adminPlanRequestRoutes, authRoutes, tenantRoutes, meRoutes, apiKeyRoutes, planRoutes, subscriptionRoutes, usageRoutes, webhookRoutes, latticeRoutes, jobRoutes];

export function mountRoutes(app: Koa<ApiState>, deps: ApiDeps, registry: OpenAPIRegistry): void {
  // One router holds every module's routes, so a request is matched once instead of passing
  // through a router and an allowedMethods middleware per module (28 middleware per request).
  const root = new Router<ApiState>();
  for (const module of ROUTE_MODULES) root.use(module(deps, registry).routes());
  app.use(root.routes());
  // A method no router knows (PROPFIND, TRACE…) is the client's mistake: 405, not the router's 501.
  app.use(root.allowedMethods({ throw: true, notImplemented: methodNotAllowed }));
}
