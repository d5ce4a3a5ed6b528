/**
 * The OpenAPI document at /openapi.json is valid OpenAPI 3.1 and lists every route the API's
 * routers answer, with its auth scheme and problem+json errors. A route added without
 * `defineRoute` (or deliberately undocumented without saying so here) fails this file.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import SwaggerParser from '@apidevtools/swagger-parser';
import Router from '@koa/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { createApiDeps } from '../../api/deps.ts';
import { listAppRoutes, type RegisteredRoute, toOpenApiPath } from '../../api/openapi/route-list.ts';
import { useTestEnvironment } from '../support/context.ts';

/** Routes left out of the document on purpose, each with its reason. */
const UNDOCUMENTED: Array<{ path: RegExp; reason: string }> = [
  { path: /^\/admin\/queues/, reason: 'bull-board: an operator UI with its own private JSON API, not the tenant contract' },
  { path: /^\/docs\/assets\//, reason: 'static files of the Swagger UI page' },
];

interface Operation {
  security?: Array<Record<string, string[]>>;
  responses: Record<string, { content?: Record<string, unknown> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
}

/** Routes neither in the document nor listed as deliberately undocumented. */
function undocumented(list: RegisteredRoute[], doc: Document): string[] {
  return list
    .filter((r) => !UNDOCUMENTED.some((u) => u.path.test(r.path)))
    .filter((r) => !doc.paths[toOpenApiPath(r.path)]?.[r.method])
    .map((r) => `${r.method.toUpperCase()} ${r.path}`);
}

const env = useTestEnvironment();
let server: Server;
let url: string;
let routes: RegisteredRoute[];
let document: Document;

beforeAll(async () => {
  // Operator credentials set, so the admin routes exist and must be accounted for.
  const deps = createApiDeps(env.runtime({ ADMIN_USER: 'ops', ADMIN_PASSWORD: 'secret-password', METRICS_TOKEN: 'scrape' }));
  const app = createApp(deps);
  routes = listAppRoutes(app);
  server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const response = await fetch(`${url}/openapi.json`);
  expect(response.status).toBe(200);
  document = (await response.json()) as Document;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    expect(document.openapi).toBe('3.1.0');
    // validate() dereferences in place: give it a copy.
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy();
  });

  it('documents every route the routers answer, except the listed ones', () => {
    expect(routes.length).toBeGreaterThan(5);
    expect(undocumented(routes, document)).toEqual([]);
  });

  it('notices a route added without defineRoute', () => {
    const app = createApp(createApiDeps(env.runtime()));
    const stray = new Router();
    stray.get('/api/stray/:id', (ctx) => {
      ctx.body = {};
    });
    app.use(stray.routes());
    expect(undocumented(listAppRoutes(app), document)).toEqual(['GET /api/stray/:id']);
  });

  it('lists only routes that exist', () => {
    const known = new Set(routes.map((r) => `${r.method} ${toOpenApiPath(r.path)}`));
    const extra = Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((method) => !known.has(`${method} ${path}`))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(extra).toEqual([]);
  });

  it('each undocumented exception matches a real route (no stale exceptions)', () => {
    for (const exception of UNDOCUMENTED) expect(routes.some((r) => exception.path.test(r.path)), exception.reason).toBe(true);
  });

  it('declares its auth schemes and problem+json errors', () => {
    expect(Object.keys(document.components.securitySchemes)).toEqual(expect.arrayContaining(['bearerAuth', 'metricsToken']));
    expect(document.components.schemas.Problem).toBeDefined();
    for (const [path, ops] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.responses['500']?.content?.['application/problem+json'], where).toBeDefined();
        for (const requirement of op.security ?? []) {
          for (const scheme of Object.keys(requirement)) expect(document.components.securitySchemes[scheme], where).toBeDefined();
        }
      }
    }
    expect(document.paths['/metrics']?.get?.security).toEqual([{ metricsToken: [] }, {}]);
  });

  it('names every operation once, for the method names of generated clients', () => {
    const ids = Object.values(document.paths).flatMap((ops) => Object.values(ops).map((op) => (op as { operationId?: string }).operationId));
    expect(ids.filter((id) => !id)).toEqual([]);
    expect(ids.every((id) => /^[a-z][A-Za-z]+$/.test(id!))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('declares response headers and a body for every error status', () => {
    for (const [path, ops] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const [status, response] of Object.entries(op.responses)) {
          const where = `${method.toUpperCase()} ${path} ${status}`;
          const { headers } = response as { headers?: Record<string, unknown> };
          expect(headers?.['X-Request-Id'], where).toBeDefined();
          // An error has a body: a problem document, or the route's own report (as /ready's 503).
          if (Number(status) >= 400) expect(Object.keys(response.content ?? {}), where).not.toEqual([]);
          if (status === '429') expect(headers?.['Retry-After'], where).toBeDefined();
        }
      }
    }
    const created = document.paths['/api/jobs']?.post?.responses['202'] as { headers?: Record<string, unknown> };
    expect(created.headers?.Location).toBeDefined();
    expect(created.headers?.['RateLimit-Remaining']).toBeDefined();
  });

  it('groups operations under the declared tags, in the order a user learns the API', () => {
    const declared = (document as unknown as { tags: Array<{ name: string }> }).tags.map((t) => t.name);
    expect(declared.slice(0, 6)).toEqual(['Jobs', 'Lattices', 'Webhooks', 'Account', 'Team', 'Operations']);
    for (const [path, ops] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const tag of (op as { tags?: string[] }).tags ?? []) expect(declared, `${method.toUpperCase()} ${path}`).toContain(tag);
      }
    }
  });

  it('declares the media type each route really sends', async () => {
    const jwks = await fetch(`${url}/auth/jwks`);
    const declared = Object.keys(document.paths['/auth/jwks']?.get?.responses['200']?.content ?? {});
    expect(declared).toEqual([jwks.headers.get('content-type')?.split(';')[0]]);
  });

  it('serves Swagger UI and its assets from the API itself', async () => {
    const page = await fetch(`${url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(assets.length).toBeGreaterThanOrEqual(4);
    for (const asset of assets) {
      expect(asset.startsWith('/docs/assets/'), asset).toBe(true);
      const response = await fetch(`${url}${asset}`);
      expect(response.status, asset).toBe(200);
      await response.arrayBuffer();
    }
    const missing = await fetch(`${url}/docs/assets/package.json`);
    expect(missing.status).toBe(404);
  });
});
