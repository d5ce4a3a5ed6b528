/**
 * The OpenAPI document at /openapi.json is valid OpenAPI 3.1, passes Redocly's recommended rules
 * without a warning, and lists every route the API's routers answer, with its auth scheme and
 * problem+json errors. A route added without `defineRoute` (or deliberately undocumented without
 * saying so here) fails this file. Live answers are checked against it in
 * openapi-live-responses.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import Router from '@koa/router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { createApiDeps } from '../../api/deps.ts';
import { listAppRoutes, type RegisteredRoute, toOpenApiPath } from '../../api/openapi/route-list.ts';
import { KernelTypeSchema } from '../../shared/lattice/schema.ts';
import { useTestEnvironment } from '../support/context.ts';
import { generatedClientDiagnostics } from './generated-client-check.ts';
import { RULE_CASES } from './request-rules.ts';
import { CLIENT_SNIPPET } from './generated-client-snippet.ts';

/** Routes left out of the document on purpose, each with its reason. */
const UNDOCUMENTED: Array<{ path: RegExp; reason: string }> = [
  { path: /^\/admin\/queues/, reason: 'bull-board: an operator UI with its own private JSON API, not the tenant contract' },
  { path: /^\/docs\/assets\//, reason: 'static files of the Swagger UI page' },
];

const REDOCLY = fileURLToPath(new URL('../../node_modules/@redocly/cli/bin/cli.js', import.meta.url));

interface RedoclyReport {
  totals: { errors: number; warnings: number };
  problems: Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer: string; source: { ref: string } }> }>;
}

/**
 * Redocly CLI's findings under its recommended rules, for each document by its name, one
 * readable line each (`severity rule at pointer: message`). One run lints them all (the CLI
 * takes seconds to start), in an empty directory so no config file is picked up.
 */
async function redoclyFindings<K extends string>(docs: Record<K, unknown>): Promise<Record<K, string[]>> {
  const dir = await mkdtemp(join(tmpdir(), 'catalytic-openapi-'));
  try {
    const names = Object.keys(docs) as K[];
    for (const name of names) await writeFile(join(dir, `${name}.json`), JSON.stringify(docs[name], null, 1));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [REDOCLY, 'lint', ...names.map((n) => `${n}.json`), '--format=json', '--extends=recommended', '--max-problems=1000'],
        { cwd: dir, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }, maxBuffer: 64 * 1024 * 1024 },
        // Exits 1 when it finds errors: the report is still on stdout.
        (err, out, stderr) => (out ? resolve(out) : reject(new Error(`redocly lint gave no report: ${err?.message ?? ''}\n${stderr}`))),
      );
    });
    // One pretty-printed report per file, back to back: `}{` at the start of a line splits them.
    const reports = stdout.split(/(?<=^\})(?=\{)/m).map((text) => JSON.parse(text) as RedoclyReport);
    const found = Object.fromEntries(names.map((n) => [n, [] as string[]])) as Record<K, string[]>;
    for (const p of reports.flatMap((r) => r.problems)) {
      const where = p.location[0];
      const name = (where?.source.ref.replace(/^.*\//, '').replace(/\.json$/, '') ?? names[0]) as K;
      (found[name] ?? found[names[0]!]).push(`${p.severity} ${p.ruleId} at ${where?.pointer ?? '?'}: ${p.message}`);
    }
    return found;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Where a schema says "a reference, or null" as an `allOf`, which no value but a referenced one passes. */
function nullableAllOfs(node: unknown, pointer = '#'): string[] {
  if (Array.isArray(node)) return node.flatMap((n, i) => nullableAllOfs(n, `${pointer}/${i}`));
  if (!node || typeof node !== 'object') return [];
  const here = Object.entries(node).flatMap(([key, value]) => nullableAllOfs(value, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`));
  const allOf = (node as { allOf?: unknown }).allOf;
  const allowsNull = (s: unknown) => {
    const type = (s as { type?: unknown } | null)?.type;
    return type === 'null' || (Array.isArray(type) && type.includes('null'));
  };
  return Array.isArray(allOf) && allOf.some(allowsNull) ? [pointer, ...here] : here;
}

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

  it("passes Redocly's recommended rules without an error or a warning (and the lint notices a broken copy)", async () => {
    const broken = structuredClone(document) as unknown as { info: Record<string, unknown>; paths: Record<string, Record<string, Record<string, unknown>>> };
    delete broken.info.license;
    delete broken.paths['/api/jobs']!.get!.operationId;
    const findings = await redoclyFindings({ openapi: document, broken });
    expect(findings.openapi).toEqual([]);
    expect(findings.broken).toEqual(
      expect.arrayContaining([expect.stringMatching(/^warn info-license at #\/info: /), expect.stringMatching(/operation-operationId at #\/paths\/~1api~1jobs\/get/)]),
    );
  });

  it('lets a nullable reference be null (anyOf with null, never an allOf)', () => {
    expect(nullableAllOfs(document)).toEqual([]);
    expect(nullableAllOfs({ a: { allOf: [{ $ref: '#/x' }, { type: ['object', 'null'] }] } })).toEqual(['#/a']);
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

  it('documents every kernel type: its parameters in the job body and its result', () => {
    const text = JSON.stringify(document.components.schemas.JobSubmit);
    for (const type of KernelTypeSchema.options) expect(text).toContain(`"${type}"`);
    for (const name of ['ShortestPathResult', 'ComponentsResult', 'DiffusionResult', 'DistanceFieldResult', 'MinCostPathResult', 'PercolationResult']) {
      expect(document.components.schemas[name], name).toBeDefined();
    }
  });

  it('states the cross-field rules: it accepts and refuses each body as the API does', () => {
    const ajv = new Ajv2020({ strict: false, validateSchema: false, allErrors: false });
    (createRequire(import.meta.url)('ajv-formats') as (a: Ajv2020) => Ajv2020)(ajv);
    ajv.addVocabulary(['discriminator', 'example']);
    ajv.addSchema(structuredClone(document), 'openapi.json');
    const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
    const verdicts = RULE_CASES.map(({ method, path, body, accepted }) => {
      const documented = ajv.validate({ $ref: `openapi.json#/${pointer('paths', path, method, 'requestBody', 'content', 'application/json', 'schema')}` }, body);
      return `${method.toUpperCase()} ${path} ${JSON.stringify(body)}: api ${accepted}, document ${documented}`;
    });
    expect(verdicts.filter((v) => !/api (\w+), document \1$/.test(v))).toEqual([]);
    // Both verdicts occur: the cases are not all accepted (or all refused) by both.
    expect(new Set(verdicts.map((v) => v.slice(v.lastIndexOf(' ') + 1)))).toEqual(new Set(['true', 'false']));
  });

  it('is all a generated client needs: openapi-typescript types, strict, no casts, defaults optional, results typed by job type', async () => {
    // The snippet's `@ts-expect-error` lines fail this too when the types are too loose (a result as a bare record).
    expect(await generatedClientDiagnostics(document, CLIENT_SNIPPET)).toEqual([]);
  }, 120_000);

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
    expect(declared.slice(0, 7)).toEqual(['Jobs', 'Batches', 'Lattices', 'Webhooks', 'Account', 'Team', 'Operations']);
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
