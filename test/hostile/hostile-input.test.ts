/**
 * Hostile input against a real `catalytic api` process: every route (listed from the app's own
 * routers, so new routes are fuzzed without touching this file) gets thousands of generated
 * requests in all — hostile ids and queries, polluting and deeply nested bodies, huge numbers,
 * invalid UTF-8, wrong media types, 10 MB bodies, forged and tampered credentials — plus
 * malformed requests on raw sockets and slowloris clients.
 *
 * Every answer must be a 4xx problem+json or a correct 2xx: never a 5xx, never a hang, never a
 * crash (the process still answers /live at the end), and the database changes only by the rows
 * the 2xx answers name. Counts by status and by route are printed as JSON and written to
 * test-results/hostile-input.json. `HOSTILE_SEED` replays a run; `HOSTILE_CASES_PER_ROUTE`
 * scales it.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { createApiDeps } from '../../api/deps.ts';
import { MAX_PATH_WAIT_MS } from '../../api/jobs/schemas.ts';
import { listAppRoutes } from '../../api/openapi/route-list.ts';
import { useTestEnvironment } from '../support/context.ts';
import { IDENTITY_TEST_ENV, STRONG_PASSWORD } from '../support/identity.ts';
import { type CatalyticProcess, spawnCatalytic } from '../support/processes.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { type CaseContext, type Credential, type HostileCase, type RouteInfo, routeKey, sampleCases } from './cases.ts';
import { forgedCredentials } from './forged-tokens.ts';
import { createAgent, type Outcome, rawExchange, type RawExchange, send } from './raw-http.ts';
import { Ledger, type LedgerSnapshot, snapshot } from './row-ledger.ts';
import { judge, outcomeLabel } from './verdict.ts';

const SEED = Number(process.env.HOSTILE_SEED ?? Date.now() % 1_000_000);
const CASES_PER_ROUTE = Number(process.env.HOSTILE_CASES_PER_ROUTE ?? 50);
const CONCURRENCY = 12;
/** Longest a correct answer may take: a path request may wait MAX_PATH_WAIT_MS by design. */
const REQUEST_TIMEOUT_MS = MAX_PATH_WAIT_MS + 15_000;
const BODY_LIMIT_BYTES = 1024 * 1024;
/** The API's socket timeouts, shorter than the defaults (10 s, 30 s) so the file runs faster, and how late a cut may come. */
const HEADERS_TIMEOUT_MS = 4_000;
const REQUEST_BODY_TIMEOUT_MS = 8_000;
const CUT_SLACK_MS = 5_000;

/**
 * Routes whose 4xx answers may be plain JSON, each with its reason (their 5xx are still failures).
 */
const PLAIN_ERRORS: Array<{ route: RegExp; reason: string }> = [
  { route: /^[A-Z]+ \/admin\/queues/, reason: "bull-board's private JSON API answers its UI's own errors as {error, message}" },
];

const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const OPERATOR = { user: 'ops', password: 'operator-secret-7' };
const METRICS_TOKEN = 'scrape-token-1';
const env = useTestEnvironment({
  ...IDENTITY_TEST_ENV,
  RATE_LIMIT_CREDENTIAL_PER_SECOND: '1000000',
  JWT_PRIVATE_KEY: signingKey,
  ADMIN_USER: OPERATOR.user,
  ADMIN_PASSWORD: OPERATOR.password,
  METRICS_TOKEN,
  BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES),
  HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
  HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_BODY_TIMEOUT_MS),
  // 5xx are logged at error level: the output names what failed.
  LOG_LEVEL: 'error',
});

interface Seeded {
  tenant: TestTenant;
  other: TestTenant;
  readOnly: TestTenant;
  owner: { email: string; accessToken: string };
  spareSession: { accessToken: string; refreshToken: string };
  own: Record<string, string[]>;
  foreign: Record<string, string[]>;
}

let api: CatalyticProcess;
let base: URL;
let routes: RouteInfo[];
let seeded: Seeded;
let forged: Credential[];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function call<T>(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(new URL(path, base), {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function created<T extends { id: string }>(path: string, body: unknown, headers: Record<string, string>): Promise<T> {
  const response = await call<T>(path, { method: 'POST', body, headers });
  if (response.status >= 300) throw new Error(`${path} answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

async function waitForLive(deadlineMs: number): Promise<void> {
  for (;;) {
    try {
      if ((await fetch(new URL('/live', base))).status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadlineMs) throw new Error(`the API did not answer /live:\n${api.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resources of a tenant that hostile paths can point at. */
async function seedResources(headers: Record<string, string>): Promise<Record<string, string[]>> {
  const lattice = await created<{ id: string }>('/api/lattices', { shape: [6, 6], name: 'seed' }, headers);
  const job = await created<{ id: string }>('/api/jobs', { type: 'shortest_path', lattice_id: lattice.id, params: { start: [0, 0], end: [5, 5] } }, headers);
  const webhook = await created<{ id: string }>('/api/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['job.completed'] }, headers);
  const delivery = await created<{ id: string }>(`/api/webhooks/${webhook.id}/test`, undefined, headers);
  // DELETE routes get resources of their own, so deleting one early leaves the rest to fuzz.
  const doomedLattice = await created<{ id: string }>('/api/lattices', { shape: [4, 4] }, headers);
  const doomedJob = await created<{ id: string }>('/api/jobs', { type: 'components', lattice_id: lattice.id }, headers);
  const doomedWebhook = await created<{ id: string }>('/api/webhooks', { url: 'http://127.0.0.1:9/doomed', events: ['job.failed'] }, headers);
  return {
    lattices: [lattice.id],
    jobs: [job.id],
    webhooks: [webhook.id],
    deliveries: [delivery.id],
    'delete:lattices': [doomedLattice.id],
    'delete:jobs': [doomedJob.id],
    'delete:webhooks': [doomedWebhook.id],
  };
}

beforeAll(async () => {
  // Plan limits are not what this file is about: no per-minute or monthly caps get in the way.
  await env.db('plans').update({ requests_per_minute: 1_000_000, api_calls_per_month: -1, jobs_per_month: -1, max_lattices: -1, max_webhooks: -1 });
  const port = await freePort();
  base = new URL(`http://127.0.0.1:${port}`);
  api = spawnCatalytic(['api'], { ...env.env, PORT: String(port) });
  await waitForLive(Date.now() + 30_000);

  // Routes from the app's own routers; body and auth facts from the OpenAPI document it serves.
  const listed = listAppRoutes(createApp(createApiDeps(env.runtime())));
  const doc = (await call<{ paths: Record<string, Record<string, { security?: unknown[]; requestBody?: unknown }>> }>('/openapi.json')).body;
  routes = listed.map((route) => {
    const operation = doc.paths[route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[route.method];
    return {
      ...route,
      // Undocumented routes (the operator board) are treated as protected.
      protected: operation ? (operation.security ?? []).some((s) => Object.keys(s as object).includes('bearerAuth')) : true,
      hasBody: operation ? operation.requestBody !== undefined : ['post', 'put', 'patch'].includes(route.method),
    };
  });

  const [tenant, other, readOnly] = await Promise.all([
    createTestTenant(env.db, { plan: 'enterprise' }),
    createTestTenant(env.db, { plan: 'enterprise' }),
    createTestTenant(env.db, { plan: 'enterprise', scopes: ['jobs:read', 'lattices:read'] }),
  ]);
  const email = `owner-${randomBytes(4).toString('hex')}@example.test`;
  const registration = await call<{ tokens: { access_token: string; refresh_token: string } }>('/api/tenants/register', {
    body: { company_name: 'Hostile Co', email, password: STRONG_PASSWORD, first_name: 'Ada', last_name: 'Owner', plan_code: 'enterprise' },
  });
  if (registration.status !== 201) throw new Error(`sign-up answered ${registration.status}`);
  const { access_token: accessToken } = registration.body.tokens;
  const signIn = await call<{ access_token: string; refresh_token: string }>('/auth/login', { body: { email, password: STRONG_PASSWORD } });
  if (signIn.status !== 200) throw new Error(`sign-in answered ${signIn.status}`);
  const ownResources = await seedResources(tenant.headers);
  const foreignResources = await seedResources(other.headers);
  // A key of the caller's own that hostile DELETEs may revoke without cutting off the test.
  const spareKey = await created<{ id: string }>('/api/api-keys', { name: 'spare', scopes: ['jobs:read'] }, { authorization: `Bearer ${accessToken}` });
  seeded = {
    tenant,
    other,
    readOnly,
    owner: { email, accessToken },
    spareSession: { accessToken: signIn.body.access_token, refreshToken: signIn.body.refresh_token },
    own: { ...ownResources, 'api-keys': [spareKey.id] },
    foreign: foreignResources,
  };

  const jwks = (await call<{ keys: Array<{ kid: string; n: string }> }>('/auth/jwks')).body;
  const key = jwks.keys[0] as { kid: string; n: string };
  forged = forgedCredentials({
    accessToken: seeded.owner.accessToken,
    privateKeyPem: signingKey,
    kid: key.kid,
    publicJwkN: key.n,
    publicPem: createPublicKey(createPrivateKey(signingKey)).export({ type: 'spki', format: 'pem' }).toString(),
  }).map((f) => ({ name: f.name, authorization: f.authorization, genuine: false }));
  forged.push({ name: 'operator basic, wrong password', authorization: `Basic ${Buffer.from(`${OPERATOR.user}:nope`).toString('base64')}`, genuine: false });
}, 120_000);

afterAll(async () => {
  if (api && api.child.exitCode === null && api.child.signalCode === null) {
    api.child.kill('SIGTERM');
    // A graceful stop, or the support's SIGKILL after the file.
    await Promise.race([api.exited, new Promise((r) => setTimeout(r, 15_000))]);
  }
});

/** Which seeded ids a path parameter may take. */
function idsFor(route: RouteInfo, param: string): { own: string[]; foreign: string[] } {
  const resource = route.path.split('/')[2] ?? '';
  const key = param === 'did' ? 'deliveries' : route.method === 'delete' && seeded.own[`delete:${resource}`] ? `delete:${resource}` : resource;
  return { own: seeded.own[key] ?? [], foreign: seeded.foreign[key] ?? [] };
}

function caseContext(): CaseContext {
  const apiKey: Credential = { name: 'api key', authorization: seeded.tenant.headers.authorization, genuine: true };
  const owner: Credential = { name: 'owner token', authorization: `Bearer ${seeded.owner.accessToken}`, genuine: true };
  const readOnly: Credential = { name: 'read-only key', authorization: seeded.readOnly.headers.authorization, genuine: true };
  const operator: Credential = { name: 'operator basic', authorization: `Basic ${Buffer.from(`${OPERATOR.user}:${OPERATOR.password}`).toString('base64')}`, genuine: true };
  const metrics: Credential = { name: 'metrics token', authorization: `Bearer ${METRICS_TOKEN}`, genuine: true };
  // Sign-out and refresh end sessions: they get a session of their own, so the owner's stays usable.
  const spare: Credential = { name: 'spare session', authorization: `Bearer ${seeded.spareSession.accessToken}`, genuine: true };
  const lattice = seeded.own.lattices?.[0] as string;
  return {
    idsFor,
    credentialsFor(route) {
      const key = routeKey(route);
      let genuine = [apiKey, apiKey, owner, readOnly];
      if (route.path.startsWith('/admin/')) genuine = [operator];
      else if (key === 'GET /metrics') genuine = [metrics];
      else if (key === 'POST /auth/logout' || key === 'POST /auth/refresh') genuine = [spare];
      else if (key.includes('/api/api-keys') || key === 'POST /api/subscription') genuine = [owner, owner, apiKey];
      return { genuine, forged };
    },
    seeds: {
      'POST /api/tenants/register': () => ({
        company_name: 'Fuzz Co',
        email: `fuzz-${randomBytes(5).toString('hex')}@example.test`,
        password: STRONG_PASSWORD,
        first_name: 'Fu',
        last_name: 'Zz',
        plan_code: 'starter',
      }),
      'POST /auth/login': () => ({ email: seeded.owner.email, password: STRONG_PASSWORD }),
      'POST /auth/refresh': () => ({ refresh_token: seeded.spareSession.refreshToken }),
      'POST /api/api-keys': () => ({ name: 'fuzzed', scopes: ['jobs:read'] }),
      'POST /api/subscription': () => ({ plan_code: 'enterprise' }),
      'POST /api/webhooks': () => ({ url: 'http://127.0.0.1:9/hook', events: ['job.completed'], description: 'd' }),
      'PATCH /api/webhooks/:id': () => ({ description: 'changed', enabled: true }),
      'POST /api/webhooks/:id/rotate-secret': () => ({ previous_secret_ttl_s: 60 }),
      'POST /api/lattices': () => ({ shape: [5, 5], boundary: 'open', obstacles: { density: 0.1, seed: 7 }, name: 'fuzzed' }),
      'PATCH /api/lattices/:id': () => ({ name: 'renamed', boundary: 'periodic' }),
      'POST /api/lattices/path': () => ({ lattice_id: lattice, start: [0, 0], end: [5, 5], wait_ms: 0 }),
      'POST /api/jobs': () => ({ type: 'shortest_path', lattice: { shape: [5, 5] }, params: { start: [0, 0], end: [4, 4] } }),
    },
  };
}

/** Big and special bodies, sent once each to a few routes. */
function specialCases(): HostileCase[] {
  const key = { name: 'api key', authorization: seeded.tenant.headers.authorization, genuine: true };
  const json = { 'content-type': 'application/json' };
  const tenMb = Buffer.alloc(10 * 1024 * 1024, 0x20);
  tenMb.write('{"name":"');
  const bigString = Buffer.from(`{"name":"${'x'.repeat(BODY_LIMIT_BYTES - 100)}","shape":[3,3]}`);
  const cases: HostileCase[] = [];
  for (const route of ['POST /api/jobs', 'POST /api/lattices', 'POST /auth/login', 'POST /api/tenants/register', 'PATCH /api/lattices/:id']) {
    const [method, path] = route.split(' ') as [string, string];
    const target = path.replace(':id', seeded.own.lattices?.[0] as string);
    cases.push(
      { route, kind: '10mb-body', credential: key, mayReset: true, request: { method, path: target, headers: { ...json, authorization: key.authorization }, body: tenMb } },
      { route, kind: '10mb-chunked', credential: key, mayReset: true, request: { method, path: target, headers: { ...json, authorization: key.authorization }, body: tenMb, chunked: true } },
      { route, kind: 'body-at-limit', credential: key, request: { method, path: target, headers: { ...json, authorization: key.authorization }, body: bigString } },
      { route, kind: 'gzip-bomb-like', credential: key, request: { method, path: target, headers: { ...json, 'content-encoding': 'gzip', authorization: key.authorization }, body: Buffer.from('not gzip at all') } },
    );
  }
  // Regressions: each of these once answered 500.
  const regression = (route: string, path: string, body: string, expectStatus: number, credential: Credential = key): HostileCase => ({
    route,
    kind: 'regression',
    credential,
    expectStatus,
    request: { method: route.split(' ')[0] as string, path, headers: { ...json, ...(credential.authorization ? { authorization: credential.authorization } : {}) }, body: Buffer.from(body) },
  });
  const none: Credential = { name: 'none', genuine: false };
  cases.push(
    // PostgreSQL text cannot hold U+0000: the sign-in lookup failed on it.
    regression('POST /auth/login', '/auth/login', '{"email":"a\\u0000b@example.test","password":"x"}', 400, none),
    regression('POST /api/lattices', '/api/lattices', '{"shape":[3,3],"name":"a\\u0000b"}', 400),
    // An unpaired surrogate would reach jsonb or become U+FFFD in text.
    regression('POST /api/lattices', '/api/lattices', '{"shape":[3,3],"name":"\\ud800"}', 400),
    regression('POST /api/jobs', '/api/jobs', `{"type":"components","lattice":{"shape":[3,3]},"params":${'['.repeat(10_000)}${']'.repeat(10_000)}}`, 400),
    regression('POST /api/jobs', '/api/jobs', `{"type":"components","lattice":{"shape":[3,3]},"x":${'{"a":'.repeat(70)}1${'}'.repeat(70)}}`, 400),
  );
  // A base64url JWT payload that is not JSON made jsonwebtoken's decode throw; every forged
  // credential must be a plain 401.
  for (const credential of forged) {
    cases.push({ route: 'GET /api/me', kind: 'regression', credential, expectStatus: 401, request: { method: 'GET', path: '/api/me', headers: { authorization: credential.authorization as string } } });
  }
  // Methods no route answers, on every path (they were the router's 501, answered as 500).
  const paths = [...new Set(routes.map((r) => r.path))];
  for (const path of paths) {
    const concrete = path.replace(/:([A-Za-z0-9_]+)/g, '00000000-0000-0000-0000-000000000000').replace(/\{\/\*[A-Za-z0-9_]+\}/, '');
    for (const method of ['PUT', 'OPTIONS', 'PROPFIND', 'TRACE', 'PURGE']) {
      // The board's mount answers PUT itself (after its own credentials check).
      const expectStatus = method !== 'OPTIONS' && !(method === 'PUT' && path.startsWith('/admin/')) ? 405 : undefined;
      cases.push({ route: `${method} ${path}`, kind: 'unknown-method', credential: key, expectStatus, request: { method, path: concrete, headers: { authorization: key.authorization } } });
    }
  }
  return cases;
}

async function runAll<T, R>(items: readonly T[], concurrency: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await run(items[index] as T);
      }
    }),
  );
  return results;
}

interface Failure {
  route: string;
  kind: string;
  credential: string;
  method: string;
  path: string;
  outcome: string;
  reason: string;
}

const summary = {
  seed: SEED,
  cases_per_route: CASES_PER_ROUTE,
  routes: 0,
  requests: 0,
  by_status: {} as Record<string, number>,
  by_route: {} as Record<string, Record<string, number>>,
  by_kind: {} as Record<string, Record<string, number>>,
  by_credential: {} as Record<string, Record<string, number>>,
  latency_ms: { p50: 0, p99: 0, max: 0 },
  rows: {} as Record<string, { created: number; deleted: number }>,
  raw: {} as Record<string, string>,
  slowloris: {} as Record<string, unknown>,
  failures: [] as Failure[],
};

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

function writeSummary(): void {
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/hostile-input.json', `${JSON.stringify(summary, null, 2)}\n`);
  const { by_route: _byRoute, by_kind: _byKind, by_credential: _byCredential, ...short } = summary;
  console.log(JSON.stringify({ ...short, failures: summary.failures.slice(0, 20), failures_total: summary.failures.length }, null, 2));
}

describe('hostile input', () => {
  let before: LedgerSnapshot;
  const ledger = new Ledger();
  afterAll(() => {
    if (summary.requests) writeSummary();
  });

  it('answers every hostile request on every route with a 4xx problem or a correct 2xx', async () => {
    before = await snapshot(env.db);
    const context = caseContext();
    const cases = [...routes.flatMap((route, i) => sampleCases(route, context, CASES_PER_ROUTE, SEED + i)), ...specialCases()];
    summary.routes = routes.length;
    const protectedRoutes = new Set(routes.filter((r) => r.protected).map(routeKey));
    const agent = createAgent(CONCURRENCY);
    const durations: number[] = [];
    await runAll(cases, CONCURRENCY, async (hostile) => {
      const outcome: Outcome = await send(base, hostile.request, { agent, timeoutMs: REQUEST_TIMEOUT_MS });
      const label = outcomeLabel(outcome);
      durations.push(outcome.ms);
      bump(summary.by_status, label);
      bump((summary.by_route[hostile.route] ??= {}), label);
      bump((summary.by_kind[hostile.kind] ??= {}), label);
      bump((summary.by_credential[hostile.credential.name] ??= {}), label);
      const reason = judge(hostile, outcome, {
        protected: protectedRoutes.has(hostile.route),
        plainErrors: PLAIN_ERRORS.some((p) => p.route.test(hostile.route)),
      });
      if (reason) {
        summary.failures.push({
          route: hostile.route,
          kind: hostile.kind,
          credential: hostile.credential.name,
          method: hostile.request.method,
          path: hostile.request.path.slice(0, 200),
          outcome: label,
          reason,
        });
      } else if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
        ledger.record(hostile.route, hostile.request.path, outcome.body);
      }
    });
    agent.destroy();
    summary.requests = cases.length;
    durations.sort((a, b) => a - b);
    summary.latency_ms = {
      p50: durations[Math.floor(durations.length * 0.5)] ?? 0,
      p99: durations[Math.floor(durations.length * 0.99)] ?? 0,
      max: durations[durations.length - 1] ?? 0,
    };
    expect(summary.failures, JSON.stringify(summary.failures.slice(0, 10), null, 2)).toEqual([]);
    // Every route was reached, and valid requests got through the noise.
    expect(Object.keys(summary.by_route).filter((r) => routes.some((route) => routeKey(route) === r))).toHaveLength(routes.length);
    expect(Object.entries(summary.by_status).filter(([s]) => s.startsWith('2')).length).toBeGreaterThan(0);
  }, 240_000);

  it('changes the database only by what the 2xx answers did', async () => {
    const after = await snapshot(env.db);
    summary.rows = ledger.totals();
    expect(ledger.discrepancies(before, after)).toEqual([]);
  });

  it('answers malformed requests on raw sockets with a 4xx problem, or closes them', async () => {
    const auth = seeded.tenant.headers.authorization;
    const exchanges: Record<string, string[]> = {
      'invalid header byte': [`GET /api/jobs HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\nAuthorization: ${auth}\r\n\r\n`],
      'header name with space': ['GET /live HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n'],
      'content-length not a number': ['POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}'],
      'negative content-length': ['POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r\n{}'],
      'two content-lengths': ['POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'],
      'content-length and chunked': ['POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
      'bad chunk size': [`POST /api/lattices HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`],
      'headers over 16 KB': [`GET /api/jobs HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
      'garbage request line': ['HELLO\r\n\r\n'],
      'http/0.9 request': ['GET /live\r\n\r\n'],
      'unsupported http version': ['GET /live HTTP/3.0\r\nHost: x\r\n\r\n'],
      'nul in target': ['GET /api/jobs/\u0000 HTTP/1.1\r\nHost: x\r\n\r\n'],
      'absolute-form target': [`GET http://evil.example/api/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\n\r\n`],
      'asterisk target': ['OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n'],
      'missing host': ['GET /live HTTP/1.1\r\n\r\n'],
      'expectation other than 100-continue': [`POST /api/lattices HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nExpect: teapot\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`],
    };
    const failures: string[] = [];
    await runAll(Object.entries(exchanges), 16, async ([name, parts]) => {
      const result = await rawExchange(base, parts, { waitMs: 15_000 });
      summary.raw[name] = result.status ? String(result.status) : result.closedByServer ? 'closed' : 'open';
      if (result.status === undefined) {
        if (!result.closedByServer) failures.push(`${name}: neither answered nor closed`);
        return;
      }
      if (result.status >= 500) failures.push(`${name}: ${result.status}`);
      if (result.status >= 400 && !/content-type: application\/problem\+json/i.test(result.response)) {
        failures.push(`${name}: ${result.status} without problem+json: ${result.response.slice(0, 200)}`);
      }
    });
    expect(failures).toEqual([]);
  }, 90_000);

  it('cuts slow clients off within its timeouts and keeps answering others', async () => {
    const auth = seeded.tenant.headers.authorization;
    const drip = (text: string) => [...text];
    // Headers one byte at a time, never finished.
    const slowHeaders = Array.from({ length: 20 }, () =>
      rawExchange(base, drip(`GET /api/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nX-Slow: ${'s'.repeat(400)}`), {
        gapMs: 500,
        waitMs: HEADERS_TIMEOUT_MS + CUT_SLACK_MS * 2,
      }),
    );
    // Complete headers, then a body one byte at a time.
    const slowBody = Array.from({ length: 10 }, () =>
      rawExchange(
        base,
        [
          `POST /api/lattices HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n`,
          ...drip(`{"shape":[3,3],"name":"${'n'.repeat(4000)}`),
        ],
        { gapMs: 500, waitMs: REQUEST_BODY_TIMEOUT_MS + CUT_SLACK_MS * 2 },
      ),
    );
    // Others are answered promptly meanwhile.
    const prompt: number[] = [];
    const polling = (async () => {
      const until = Date.now() + HEADERS_TIMEOUT_MS;
      while (Date.now() < until) {
        const started = performance.now();
        const response = await fetch(new URL('/api/jobs?limit=1', base), { headers: { authorization: auth } });
        await response.arrayBuffer();
        expect(response.status).toBe(200);
        prompt.push(performance.now() - started);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const [headers, bodies] = await Promise.all([Promise.all(slowHeaders), Promise.all(slowBody), polling]);
    const describeCut = (results: RawExchange[]) => ({
      cut: results.filter((r) => r.closedByServer).length,
      of: results.length,
      statuses: [...new Set(results.map((r) => r.status ?? 'none'))],
      max_ms: Math.max(...results.map((r) => r.closedAfterMs)),
    });
    summary.slowloris = {
      slow_headers: describeCut(headers),
      slow_body: describeCut(bodies),
      others_max_ms: Math.round(Math.max(...prompt)),
      others_requests: prompt.length,
    };
    for (const result of headers) {
      expect(result.closedByServer).toBe(true);
      expect(result.closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + CUT_SLACK_MS);
    }
    for (const result of bodies) {
      expect(result.closedByServer).toBe(true);
      expect(result.closedAfterMs).toBeLessThan(REQUEST_BODY_TIMEOUT_MS + CUT_SLACK_MS);
      if (result.status !== undefined) expect(result.status).toBeLessThan(500);
    }
    // Generous for a shared CI machine; starved requests would wait for the cuts (10 s and more).
    expect(Math.max(...prompt)).toBeLessThan(3_000);
  }, 90_000);

  it('is still alive and answering at the end', async () => {
    expect(api.child.exitCode).toBeNull();
    expect(api.child.signalCode).toBeNull();
    const live = await fetch(new URL('/live', base));
    expect(live.status).toBe(200);
    const ready = await fetch(new URL('/ready', base));
    expect(ready.status).toBe(200);
    // Nothing the server logged as an error (it logs every 5xx and every escaped error).
    const errors = api.output().split('\n').filter((line) => /"level":(50|60)/.test(line));
    expect(errors.slice(0, 3).map((line) => line.slice(0, 600))).toEqual([]);
  });
});
