/**
 * `GET /openapi.json` (the generated OpenAPI 3.1 document) and `GET /docs` (Swagger UI over it).
 * Swagger UI's files come from the `swagger-ui-dist` package and are served from here, never from
 * a CDN, so the docs work on an isolated network and under a strict Content-Security-Policy.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { AppError } from '../../shared/errors.ts';
import { buildOpenApiDocument, type OpenApiDocument } from '../openapi/document.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';

export const DOCS_PATH = '/docs';
export const DOCS_ASSETS_PATH = '/docs/assets';

const require = createRequire(import.meta.url);
const SWAGGER_UI_DIR = dirname(require.resolve('swagger-ui-dist/package.json'));

/** The files of swagger-ui-dist the page uses, with their media types; nothing else is served. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

// The page's only script of its own, served as a file so the page needs no inline script.
const INITIALIZER = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
});
`;

const PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Catalytic API</title>
    <link rel="stylesheet" href="${DOCS_ASSETS_PATH}/swagger-ui.css">
    <link rel="icon" type="image/png" href="${DOCS_ASSETS_PATH}/favicon-32x32.png" sizes="32x32">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${DOCS_ASSETS_PATH}/swagger-ui-bundle.js"></script>
    <script src="${DOCS_ASSETS_PATH}/swagger-ui-standalone-preset.js"></script>
    <script src="${DOCS_ASSETS_PATH}/initializer.js"></script>
  </body>
</html>
`;

const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'";

export function docsRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  // Built on first request: by then every route module has declared its routes.
  let document: OpenApiDocument | undefined;
  const assets = new Map<string, Promise<Buffer>>();

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/openapi.json',
    summary: 'This OpenAPI 3.1 document',
    tags: ['Operations'],
    auth: 'public',
    responses: { 200: { description: 'The OpenAPI document', schema: z.object({ openapi: z.string() }).catchall(z.unknown()) } },
    handler: (ctx) => {
      document ??= buildOpenApiDocument(registry, deps.runtime.config);
      ctx.set('Access-Control-Allow-Origin', '*');
      ctx.body = document;
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: DOCS_PATH,
    summary: 'Swagger UI for this API',
    tags: ['Operations'],
    auth: 'public',
    responses: { 200: { description: 'An HTML page', schema: z.string(), contentType: 'text/html' } },
    handler: (ctx) => {
      ctx.set('Content-Security-Policy', CSP);
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = PAGE;
    },
  });

  // Static files of the page: deliberately not in the OpenAPI document.
  router.get(`${DOCS_ASSETS_PATH}/:file`, async (ctx) => {
    const file = ctx.params.file ?? '';
    ctx.set('Cache-Control', 'public, max-age=86400');
    if (file === 'initializer.js') {
      ctx.type = 'application/javascript; charset=utf-8';
      ctx.body = INITIALIZER;
      return;
    }
    const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!type) throw new AppError('not_found', `No docs asset ${file}`);
    let content = assets.get(file);
    if (!content) {
      content = readFile(join(SWAGGER_UI_DIR, file));
      assets.set(file, content);
    }
    ctx.type = type;
    ctx.body = await content;
  });

  return router;
}
