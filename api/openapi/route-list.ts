/**
 * Lists every (method, path) the app's routers answer, by walking the router layers mounted on a
 * Koa app. The OpenAPI coverage test compares this with the generated document.
 */
import type Router from '@koa/router';
import type Koa from 'koa';

export interface RegisteredRoute {
  method: string;
  /** The router's pattern, e.g. `/api/jobs/:id`. */
  path: string;
}

/** Routes of every router mounted with `router.routes()`; HEAD (implied by GET) is left out. */
export function listAppRoutes(app: Koa<never> | Koa): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  for (const middleware of app.middleware as Array<{ router?: Router }>) {
    const router = middleware.router;
    if (!router) continue;
    for (const layer of router.stack) {
      for (const method of layer.methods) {
        if (method === 'HEAD') continue;
        routes.push({ method: method.toLowerCase(), path: String(layer.path) });
      }
    }
  }
  return routes;
}

/** `/api/jobs/:id` → `/api/jobs/{id}`, as OpenAPI writes paths. */
export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}
