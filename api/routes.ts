/**
 * Every router of the API, mounted in order. Each resource is a module `api/<resource>/` holding
 * its routes (`routes.ts`, exporting `xxxRoutes(deps, registry)` declared with `defineRoute`),
 * and where it has them its SQL (`store.ts`) and its logic (`service.ts`); a new one is added to
 * ROUTE_MODULES.
 */
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import type Koa from 'koa';
import { AppError } from '../shared/errors.ts';
import { adminRoutes } from './admin/index.ts';
import { accountPageRoutes } from './account/pages.ts';
import { accountRoutes } from './account/routes.ts';
import { adminPlanRequestRoutes } from './admin/plan-request-routes.ts';
import { apiKeyRoutes } from './api-keys/routes.ts';
import { artefactRoutes } from './artefacts/routes.ts';
import { pictureRoutes } from './pictures/routes.ts';
import { auditRoutes } from './audit/routes.ts';
import { authRoutes } from './auth/routes.ts';
import { batchRoutes } from './batches/routes.ts';
import { jobRoutes } from './jobs/routes.ts';
import { latticeRoutes } from './lattices/routes.ts';
import { meRoutes } from './me/routes.ts';
import { memberRoutes } from './members/routes.ts';
import { notificationRoutes } from './notifications/routes.ts';
import { planRoutes } from './plans/routes.ts';
import type { ApiDeps, ApiState } from './state.ts';
import { subscriptionRoutes } from './subscription/routes.ts';
import { docsRoutes } from './system/docs.ts';
import { metricsRoutes } from './system/metrics.ts';
import { systemRoutes } from './system/routes.ts';
import { tenantRoutes } from './tenants/routes.ts';
import { usageRoutes } from './usage/routes.ts';
import { webhookRoutes } from './webhooks/routes.ts';

const methodNotAllowed = (): AppError => new AppError('method_not_allowed', 'No route answers this method');

type RouteModule = (deps: ApiDeps, registry: OpenAPIRegistry) => Router<ApiState>;

const ROUTE_MODULES: RouteModule[] = [systemRoutes, metricsRoutes, docsRoutes, adminRoutes, adminPlanRequestRoutes, authRoutes, accountRoutes, accountPageRoutes, tenantRoutes, meRoutes, notificationRoutes, memberRoutes, auditRoutes, apiKeyRoutes, planRoutes, subscriptionRoutes, usageRoutes, webhookRoutes, latticeRoutes, jobRoutes, artefactRoutes, pictureRoutes, batchRoutes];

export function mountRoutes(app: Koa<ApiState>, deps: ApiDeps, registry: OpenAPIRegistry): void {
  // One router holds every module's routes, so a request is matched once instead of passing
  // through a router and an allowedMethods middleware per module (28 middleware per request).
  const root = new Router<ApiState>();
  for (const module of ROUTE_MODULES) root.use(module(deps, registry).routes());
  app.use(root.routes());
  // A method no router knows (PROPFIND, TRACE…) is the client's mistake: 405, not the router's 501.
  app.use(root.allowedMethods({ throw: true, notImplemented: methodNotAllowed }));
}
