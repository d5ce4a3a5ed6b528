/**
 * Every answer of a real `catalytic all` process (the API with a worker and the scheduler) is what its own
 * `/openapi.json` declares: status, media type, body schema and headers, checked by
 * `OpenApiResponseChecker`. A walk through the API (sign-up, lattices, a job of each type polled
 * to completion with its result, lists, webhooks, keys, plans, operators, a batch, an uploaded map,
 * the team and the mailed links of an SMTP server the test starts) is checked answer by answer; then, driven by the document alone, every GET operation whose path can be filled from
 * its collection is fetched, and every operation is probed for its errors (no credentials,
 * unknown ids, a body of the wrong type or malformed) — so a route added to the document is
 * checked here without touching this file.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/ports.ts';
import { type SmtpReceiver, startSmtpReceiver } from '../harness/smtp-receiver.ts';
import { useTestEnvironment } from '../support/context.ts';
import { SCOPES } from '../../shared/auth/principal.ts';
import { IDENTITY_TEST_ENV, STRONG_PASSWORD } from '../support/identity.ts';
import { tokenOf } from '../support/mail.ts';
import { type OpenApiDocument, OpenApiResponseChecker } from '../support/openapi-responses.ts';
import { type CatalyticProcess, spawnCatalytic } from '../support/processes.ts';

const OPERATOR = { user: 'ops', password: 'operator-secret-7' };
const METRICS_TOKEN = 'scrape-token-1';
const FINAL = new Set(['completed', 'failed', 'cancelled']);

const env = useTestEnvironment({
  ...IDENTITY_TEST_ENV,
  RATE_LIMIT_UNAUTHENTICATED_PER_SECOND: '100000',
  ADMIN_USER: OPERATOR.user,
  ADMIN_PASSWORD: OPERATOR.password,
  METRICS_TOKEN,
});

type Credential = 'none' | 'key' | 'owner' | 'operator' | 'metrics';

interface Answer {
  status: number;
  headers: Headers;
  // Bodies are whatever the document says; the walk reads the fields it needs.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

let api: CatalyticProcess;
let base: string;
let checker: OpenApiResponseChecker;
/** An API key with every scope, of the tenant signed up below. */
let apiKey: string;
let owner: { email: string; accessToken: string; refreshToken: string };
let receiver: Server;
let receiverUrl: string;
let smtp: SmtpReceiver;
/** Mismatches found so far, each a readable line; every test ends by expecting none new. */
const mismatches: string[] = [];
/** The `code` of every problem document answered, each of which `/problems/{code}` describes. */
const problemCodes = new Set<string>();

function authorization(credential: Credential): Record<string, string> {
  switch (credential) {
    case 'none':
      return {};
    case 'key':
      return { authorization: `Bearer ${apiKey}` };
    case 'owner':
      return { authorization: `Bearer ${owner.accessToken}` };
    case 'operator':
      return { authorization: `Basic ${Buffer.from(`${OPERATOR.user}:${OPERATOR.password}`).toString('base64')}` };
    case 'metrics':
      return { authorization: `Bearer ${METRICS_TOKEN}` };
  }
}

/** Sends a request, checks the answer against the document, and returns it parsed. */
async function send(
  method: string,
  path: string,
  options: { as?: Credential; body?: unknown; raw?: string | Uint8Array; contentType?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...authorization(options.as ?? 'key'), ...options.headers };
  let payload: string | Uint8Array | undefined;
  if (options.raw !== undefined || options.body !== undefined) {
    payload = options.raw ?? JSON.stringify(options.body);
    headers['content-type'] = options.contentType ?? 'application/json';
  }
  const response = await fetch(`${base}${path}`, { method, headers, body: payload });
  const text = await response.text();
  mismatches.push(...checker.check(method, path, response.status, response.headers, text));
  const json = /^application\/([\w.-]+\+)?json(;|$)/.test(response.headers.get('content-type') ?? '') && text ? (JSON.parse(text) as unknown) : text;
  if (response.headers.get('content-type')?.startsWith('application/problem+json')) problemCodes.add((json as { code: string }).code);
  return { status: response.status, headers: response.headers, body: json };
}

/** Sends and expects the status, naming the answer when it differs. */
async function expectStatus(status: number, method: string, path: string, options: Parameters<typeof send>[2] = {}): Promise<Answer> {
  const answer = await send(method, path, options);
  expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBe(status);
  return answer;
}

/** Polls the job until it is final; every poll is checked too. */
async function finished(id: string): Promise<Answer> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const answer = await expectStatus(200, 'GET', `/api/jobs/${id}`);
    if (FINAL.has(answer.body.status as string)) return answer;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${answer.body.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function noNewMismatches(): void {
  expect(mismatches.splice(0)).toEqual([]);
}

async function waitForLive(): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/live`)).status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`the API did not answer /live:\n${api.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  // Plan limits are not what this file is about.
  await env.db('plans').update({
    requests_per_minute: 1_000_000,
    api_calls_per_month: -1,
    jobs_per_month: -1,
    max_lattices: -1,
    max_webhooks: -1,
    max_compute_units_per_job: -1,
    compute_units_per_month: -1,
  });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // The scheduler's mail sender delivers here, so the walk can follow the mailed links.
  smtp = await startSmtpReceiver();
  // One process with the API, a worker and the scheduler: one start-up instead of two.
  api = spawnCatalytic(['all'], {
    ...env.env,
    PORT: String(port),
    PUBLIC_URL: base,
    SMTP_URL: smtp.url,
    LOG_LEVEL: 'info',
    DATABASE_POOL_MAX: '4',
    KERNEL_THREADS: '1',
    WORKER_CONCURRENCY: '2',
  });
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  await Promise.all([waitForLive(), api.waitForLine(/job pipeline started/, 60_000)]);
  checker = new OpenApiResponseChecker((await (await fetch(`${base}/openapi.json`)).json()) as OpenApiDocument);
}, 60_000);

afterAll(async () => {
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  if (api && api.child.exitCode === null && api.child.signalCode === null) {
    api.child.kill('SIGTERM');
    await api.exited;
  }
  await smtp?.close();
});

/** The token of the newest mail to `to` with `subject` (waiting for it), sent after `before` mails to that address. */
async function mailedToken(to: string, subject: string, before = 0): Promise<string> {
  const mail = await smtp.waitFor(to, (m) => m.subject === subject && smtp.to(to).indexOf(m) >= before, 15_000);
  return tokenOf(mail.links[0]);
}

describe('live answers match the OpenAPI document', () => {
  it('sign-up, sign-in, keys, plans and their approval', async () => {
    const email = `owner-${randomBytes(4).toString('hex')}@example.test`;
    const signUp = { company_name: 'Contract Co', email, password: STRONG_PASSWORD, first_name: 'Ada', last_name: 'Owner' };
    const registered = await expectStatus(201, 'POST', '/api/tenants/register', { as: 'none', body: { ...signUp, plan_code: 'enterprise' } });
    await expectStatus(409, 'POST', '/api/tenants/register', { as: 'none', body: { ...signUp, plan_code: 'free' } });
    await expectStatus(201, 'POST', '/api/tenants/register', { as: 'none', body: { ...signUp, email: `free-${email}`, plan_code: 'free' } });
    await expectStatus(400, 'POST', '/api/tenants/register', { as: 'none', body: { ...signUp, email: `x${email}`, password: 'contractco1', plan_code: 'free' } });
    const signedIn = await expectStatus(200, 'POST', '/auth/login', { as: 'none', body: { email, password: STRONG_PASSWORD } });
    await expectStatus(401, 'POST', '/auth/login', { as: 'none', body: { email, password: `${STRONG_PASSWORD}x` } });
    const refreshed = await expectStatus(200, 'POST', '/auth/refresh', { as: 'none', body: { refresh_token: signedIn.body.refresh_token } });
    owner = { email, accessToken: refreshed.body.access_token, refreshToken: refreshed.body.refresh_token };
    await expectStatus(401, 'POST', '/auth/refresh', { as: 'none', body: { refresh_token: 'crt_spent-or-never-issued' } });
    await expectStatus(200, 'GET', '/auth/jwks', { as: 'none' });
    await expectStatus(200, 'GET', '/api/me', { as: 'owner' });
    await expectStatus(200, 'GET', '/api/me/notifications', { as: 'owner' });
    await expectStatus(200, 'PATCH', '/api/me/notifications', { as: 'owner', body: { webhooks: false } });
    await expectStatus(400, 'PATCH', '/api/me/notifications', { as: 'owner', body: {} });

    const key = await expectStatus(201, 'POST', '/api/api-keys', { as: 'owner', body: { name: 'contract', scopes: SCOPES } });
    apiKey = key.body.key as string;
    const spare = await expectStatus(201, 'POST', '/api/api-keys', { as: 'owner', body: { name: 'spare', scopes: ['jobs:read'] } });
    await expectStatus(200, 'GET', '/api/api-keys', { as: 'owner' });
    await expectStatus(204, 'DELETE', `/api/api-keys/${spare.body.id}`, { as: 'owner' });

    // The paid plan asked for at sign-up is requested once the address is confirmed, then waits
    // for an operator; so does a later upgrade. Before that, an upgrade is refused.
    expect(registered.body).toMatchObject({ plan_request: null, requested_plan: 'enterprise' });
    await expectStatus(403, 'POST', '/api/subscription', { as: 'owner', body: { plan_code: 'starter' } });
    await expectStatus(204, 'POST', '/auth/verify-email', { as: 'none', body: { token: await mailedToken(email, 'Confirm your email address for Catalytic') } });
    const asked = await expectStatus(200, 'GET', '/api/subscription', { as: 'owner' });
    const signUpRequest = asked.body.pending_request.id as string;
    await expectStatus(200, 'GET', '/admin/api/plan-requests', { as: 'operator' });
    await expectStatus(200, 'GET', `/admin/api/plan-requests/${signUpRequest}`, { as: 'operator' });
    await expectStatus(200, 'POST', `/admin/api/plan-requests/${signUpRequest}/approve`, { as: 'operator', body: {} });
    await expectStatus(409, 'POST', `/admin/api/plan-requests/${signUpRequest}/approve`, { as: 'operator', body: {} });
    await expectStatus(200, 'POST', '/api/subscription', { as: 'owner', body: { plan_code: 'professional' } });
    const upgrade = await expectStatus(202, 'POST', '/api/subscription', { as: 'owner', body: { plan_code: 'enterprise' } });
    await expectStatus(200, 'POST', `/admin/api/plan-requests/${upgrade.body.pending_request.id}/reject`, { as: 'operator', body: { reason: 'not yet' } });
    await expectStatus(202, 'POST', '/api/subscription', { as: 'owner', body: { plan_code: 'enterprise' } });
    await expectStatus(200, 'DELETE', '/api/subscription/request', { as: 'owner' });
    await expectStatus(404, 'DELETE', '/api/subscription/request', { as: 'owner' });
    // Left pending, for the operators' list in the walk below.
    await expectStatus(202, 'POST', '/api/subscription', { as: 'owner', body: { plan_code: 'enterprise' } });
    await expectStatus(200, 'GET', '/api/subscription', { as: 'owner' });
    await expectStatus(200, 'GET', '/api/usage');
    await expectStatus(403, 'POST', '/api/subscription', { body: { plan_code: 'free' } });
    const session = await expectStatus(200, 'POST', '/auth/login', { as: 'none', body: { email, password: STRONG_PASSWORD } });
    await expectStatus(204, 'POST', '/auth/logout', { headers: { authorization: `Bearer ${session.body.access_token}` } });
    noNewMismatches();
  });

  it('lattices, a job of each type polled to completion, results, lists and cancellation', async () => {
    const lattice = await expectStatus(201, 'POST', '/api/lattices', { body: { name: 'maze', shape: [8, 8], obstacles: { density: 0.2, seed: 3 } } });
    const blocked = await expectStatus(201, 'POST', '/api/lattices', { body: { dimensions: 2, size: 5, obstacles: { blocked: [[1, 1]] } } });
    await expectStatus(200, 'GET', '/api/lattices?limit=1');
    await expectStatus(200, 'GET', `/api/lattices/${lattice.body.id}`);
    await expectStatus(200, 'PATCH', `/api/lattices/${lattice.body.id}`, { body: { name: 'maze 2', boundary: 'periodic' } });
    await expectStatus(400, 'POST', '/api/lattices', { body: { shape: [4, 4], dimensions: 2 } });
    await expectStatus(400, 'PATCH', `/api/lattices/${lattice.body.id}`, { body: { shape: [4, 4], size: 4 } });
    await expectStatus(400, 'PATCH', `/api/lattices/${lattice.body.id}`, { body: {} });

    const submissions = [
      { type: 'shortest_path', lattice_id: lattice.body.id, params: { start: [0, 0], end: [7, 7] } },
      { type: 'shortest_path', lattice: { shape: [3, 3], obstacles: { blocked: [[0, 1], [1, 0]] } }, params: { start: [0, 0], end: [2, 2] } },
      { type: 'components', lattice_id: blocked.body.id },
      { type: 'diffusion', lattice: { shape: [6, 6] }, params: { steps: 5, alpha: 0.2, sources: [{ cell: [2, 2], value: 1 }], initial: [{ cell: [0, 0], value: 3 }] } },
      // The other types too, so the worker's result of every type is checked against its schema.
      { type: 'distance_field', lattice_id: lattice.body.id, params: { face: { axis: 0, side: 'low' }, costs: { max: 5, seed: 2 } } },
      { type: 'min_cost_path', lattice: { shape: [6, 6] }, params: { start: [0, 0], end: [5, 5], costs: { max: 9, seed: 1 } } },
      { type: 'percolation', lattice: { shape: [6, 6] }, params: { seed: 7, points: 5 } },
      { type: 'shortest_path', lattice: { shape: [5, 5] }, params: { pairs: [{ start: [0, 0], end: [4, 4] }, { start: [1, 0], end: [0, 3] }], connectivity: 'full' } },
    ];
    const ids: string[] = [];
    for (const [i, body] of submissions.entries()) {
      const submitted = await expectStatus(202, 'POST', '/api/jobs', { body, headers: { 'idempotency-key': `contract-${i}-${randomUUID()}` } });
      ids.push(submitted.body.id as string);
    }
    const replayKey = `replay-${randomUUID()}`;
    await expectStatus(202, 'POST', '/api/jobs', { body: submissions[2], headers: { 'idempotency-key': replayKey } });
    const replayed = await expectStatus(202, 'POST', '/api/jobs', { body: submissions[2], headers: { 'idempotency-key': replayKey } });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    await expectStatus(409, 'POST', '/api/jobs', { body: submissions[3], headers: { 'idempotency-key': replayKey } });
    await expectStatus(400, 'POST', '/api/jobs', { body: { ...submissions[0], lattice: { shape: [2, 2] } } });
    await expectStatus(400, 'POST', '/api/jobs', { body: { type: 'shortest_path', lattice_id: lattice.body.id, params: { start: [0, 0], end: [8, 8] } } });

    for (const [i, id] of ids.entries()) {
      const job = await finished(id);
      expect(job.body.status, JSON.stringify(job.body)).toBe('completed');
      expect(job.body.type).toBe(submissions[i]!.type);
      await expectStatus(200, 'GET', `/api/jobs/${id}/result`);
      await expectStatus(409, 'DELETE', `/api/jobs/${id}`);
      const events = await send('GET', `/api/jobs/${id}/events`);
      expect(events.status).toBe(200);
      expect(String(events.body)).toMatch(/event: status/);
    }
    const pathKey = { 'idempotency-key': `path-${randomUUID()}` };
    const pathBody = { lattice_id: lattice.body.id, start: [0, 0], end: [3, 3], wait_ms: 10_000 };
    const path = await expectStatus(200, 'POST', '/api/lattices/path', { body: pathBody, headers: pathKey });
    expect(path.body.status).toBe('completed');
    const pathAgain = await expectStatus(200, 'POST', '/api/lattices/path', { body: pathBody, headers: pathKey });
    expect([pathAgain.body.id, pathAgain.headers.get('idempotent-replayed')]).toEqual([path.body.id, 'true']);

    const page = await expectStatus(200, 'GET', '/api/jobs?limit=2');
    await expectStatus(200, 'GET', `/api/jobs?limit=2&cursor=${encodeURIComponent(page.body.next_cursor as string)}`);
    for (const type of ['shortest_path', 'components', 'diffusion']) await expectStatus(200, 'GET', `/api/jobs?type=${type}&status=completed`);
    await expectStatus(400, 'GET', '/api/jobs?cursor=not-a-cursor');

    // Cancelled while queued or running: either answer is declared.
    const doomed = await send('POST', '/api/jobs', { body: { type: 'diffusion', lattice: { shape: [64, 64] }, params: { steps: 2000, alpha: 0.2 } } });
    expect(doomed.status).toBe(202);
    const cancel = await send('DELETE', `/api/jobs/${doomed.body.id}`);
    expect([200, 202, 409]).toContain(cancel.status);
    await finished(doomed.body.id as string);

    await expectStatus(204, 'DELETE', `/api/lattices/${blocked.body.id}`);
    noNewMismatches();
  });

  it('webhook endpoints, test events and deliveries', async () => {
    const endpoint = await expectStatus(201, 'POST', '/api/webhooks', { body: { url: receiverUrl, events: ['job.completed'], description: 'contract' } });
    const id = endpoint.body.id as string;
    await expectStatus(200, 'GET', '/api/webhooks');
    await expectStatus(200, 'GET', `/api/webhooks/${id}`);
    await expectStatus(200, 'PATCH', `/api/webhooks/${id}`, { body: { events: ['job.completed', 'job.failed'] } });
    const delivery = await expectStatus(200, 'POST', `/api/webhooks/${id}/test`);
    await expectStatus(200, 'GET', `/api/webhooks/${id}/deliveries?limit=5`);
    await expectStatus(200, 'GET', `/api/webhooks/${id}/deliveries/${delivery.body.id}`);
    await expectStatus(200, 'POST', `/api/webhooks/${id}/deliveries/${delivery.body.id}/redeliver`);
    await expectStatus(200, 'POST', `/api/webhooks/${id}/rotate-secret`, { body: { previous_secret_ttl_s: 0 } });
    const doomed = await expectStatus(201, 'POST', '/api/webhooks', { body: { url: receiverUrl, events: ['job.failed'] } });
    await expectStatus(204, 'DELETE', `/api/webhooks/${doomed.body.id}`);
    // The first endpoint stays, for the walk below that fetches each collection's members.
    noNewMismatches();
  });

  it('the mailed links: address check, team invitations and roles, password reset and change, address change', async () => {
    const resend = await expectStatus(200, 'POST', '/api/me/email/verify', { as: 'owner' });
    expect(resend.body).toEqual({ status: 'already_verified' });

    const memberEmail = `member-${randomBytes(4).toString('hex')}@example.test`;
    await expectStatus(201, 'POST', '/api/invitations', { as: 'owner', body: { email: memberEmail, role: 'member' } });
    const accepted = await expectStatus(201, 'POST', '/auth/invitations/accept', {
      as: 'none',
      body: { token: tokenOf((await smtp.waitFor(memberEmail, undefined, 15_000)).links[0]), first_name: 'Mo', last_name: 'Member', password: STRONG_PASSWORD },
    });
    const memberAuth = (token: string) => ({ as: 'none' as const, headers: { authorization: `Bearer ${token}` } });
    const members = await expectStatus(200, 'GET', '/api/members', { as: 'owner' });
    const memberId = (members.body.data as Array<{ id: string; email: string }>).find((m) => m.email === memberEmail)!.id;
    await expectStatus(200, 'PATCH', `/api/members/${memberId}`, { as: 'owner', body: { role: 'viewer' } });

    // The member changes address (confirmed later by mail), then password, then resets it by mail.
    await expectStatus(200, 'POST', '/api/me/email', { ...memberAuth(accepted.body.tokens.access_token), body: { email: `moved-${memberEmail}`, current_password: STRONG_PASSWORD } });
    const NEW_PASSWORD = 'Quartz-Lantern-81-Meadow!';
    const changed = await expectStatus(200, 'POST', '/api/me/password', {
      ...memberAuth(accepted.body.tokens.access_token),
      body: { current_password: STRONG_PASSWORD, new_password: NEW_PASSWORD },
    });
    expect(typeof changed.body.access_token).toBe('string');
    const sentBefore = smtp.to(memberEmail).length;
    await expectStatus(200, 'POST', '/auth/password-reset', { as: 'none', body: { email: memberEmail } });
    const resetToken = await mailedToken(memberEmail, 'Reset your Catalytic password', sentBefore);
    await expectStatus(204, 'POST', '/auth/password-reset/confirm', { as: 'none', body: { token: resetToken, password: STRONG_PASSWORD } });
    await expectStatus(204, 'DELETE', `/api/members/${memberId}`, { as: 'owner' });

    const revoked = await expectStatus(201, 'POST', '/api/invitations', { as: 'owner', body: { email: `later-${memberEmail}`, role: 'viewer' } });
    await expectStatus(204, 'DELETE', `/api/invitations/${revoked.body.id}`, { as: 'owner' });
    noNewMismatches();
  });

  it('an uploaded map, a batch followed to its end, its results, artefacts and cancels', async () => {
    // 4×4 packed bits, the first row blocked: one byte of ones, one of zeros.
    await expectStatus(201, 'POST', '/api/lattices/upload?shape=4,4&name=uploaded', { raw: Uint8Array.from([0x0f, 0x00]), contentType: 'application/octet-stream' });
    const batch = await expectStatus(202, 'POST', '/api/batches', {
      body: { lattice: { shape: [6, 6] }, defaults: { type: 'components', artefacts: ['labels'] }, jobs: [{}, { labels: { part: 'two' } }], labels: { walk: 'batch' } },
      headers: { 'idempotency-key': `batch-${randomUUID()}` },
    });
    const id = batch.body.id as string;
    // The stream ends once every job of the batch is final.
    const events = await expectStatus(200, 'GET', `/api/batches/${id}/events`);
    expect(String(events.body)).toMatch(/event: counts/);
    const got = await expectStatus(200, 'GET', `/api/batches/${id}`);
    expect(got.body.status).toBe('completed');
    await expectStatus(200, 'GET', `/api/batches/${id}/results`);
    await expectStatus(200, 'DELETE', `/api/batches/${id}`);
    const cancelled = await expectStatus(200, 'POST', '/api/jobs/cancel', { body: { label: ['walk:batch'] } });
    expect(cancelled.body).toMatchObject({ cancelled: 0, more: false });

    const [job] = batch.body.job_ids as string[];
    const artefacts = await expectStatus(200, 'GET', `/api/jobs/${job}/artefacts`);
    const [artefact] = artefacts.body.data as Array<{ name: string; links: { npy: string; raw: string } }>;
    expect(artefact, JSON.stringify(artefacts.body)).toBeDefined();
    const whole = await expectStatus(200, 'GET', artefact!.links.raw);
    await expectStatus(206, 'GET', artefact!.links.npy, { headers: { range: 'bytes=0-5' } });
    await expectStatus(304, 'GET', artefact!.links.raw, { headers: { 'if-none-match': whole.headers.get('etag')! } });
    const picture = await expectStatus(200, 'GET', `/api/jobs/${job}/picture`);
    expect(picture.headers.get('content-type')).toBe('image/png');
    await expectStatus(400, 'GET', `/api/jobs/${job}/picture?slice=5:0`);
    noNewMismatches();
  });

  it('every GET the document lists answers as declared, its path filled from its collection', async () => {
    const credentialOf = (security: Array<Record<string, string[]>> | undefined): Credential => {
      const schemes = (security ?? []).flatMap((s) => Object.keys(s));
      if (schemes.includes('bearerAuth')) return 'owner';
      if (schemes.includes('operatorBasic')) return 'operator';
      if (schemes.includes('metricsToken')) return 'metrics';
      return 'none';
    };
    /**
     * Concrete paths of a template: its last `{param}` is the field of that name (`name`), else the
     * id, of a member of the collection before it (a completed one where members have a status, so a
     * job's result exists and a batch's event stream ends).
     */
    const fill = async (template: string): Promise<string[]> => {
      const last = template.lastIndexOf('/{');
      if (last === -1) return [template];
      const collection = template.slice(0, last);
      const key = template.slice(last + 2, template.indexOf('}', last));
      const rest = template.slice(template.indexOf('}', last) + 1);
      const list = checker.document.paths[collection]?.get;
      if (!list) return [];
      const found: string[] = [];
      for (const parent of await fill(collection)) {
        const members = ((await send('GET', parent, { as: credentialOf(list.security) })).body?.data ?? []) as Array<Record<string, unknown>>;
        // A parameter a member has no field of (a delivery's `{did}`) is its id.
        const field = members.some((m) => typeof m[key] === 'string') ? key : 'id';
        const named = members.filter((m) => typeof m[field] === 'string');
        const member = named.find((m) => m.status === undefined || m.status === 'completed') ?? named[0];
        if (member) found.push(`${parent}/${encodeURIComponent(member[field] as string)}${rest}`);
      }
      return found;
    };
    const unreached: string[] = [];
    for (const { method, template, operation } of checker.operations()) {
      if (method !== 'get') continue;
      const paths = await fill(template);
      if (!paths.length) unreached.push(`GET ${template}`);
      for (const path of paths) {
        const answer = await send('GET', path, { as: credentialOf(operation.security) });
        expect(answer.status, `GET ${path}`).toBeLessThan(300);
      }
    }
    // Problem types are named by the codes the answers so far carried, not by a collection.
    expect(problemCodes.size).toBeGreaterThan(3);
    for (const code of problemCodes) await expectStatus(200, 'GET', `/problems/${code}`, { as: 'none' });
    expect(unreached.filter((route) => route !== 'GET /problems/{code}')).toEqual([]);
    noNewMismatches();
  });

  it('every operation answers its errors as declared problem documents', async () => {
    let probes = 0;
    for (const { method, template, operation } of checker.operations()) {
      const secured = (operation.security ?? []).length > 0 && !(operation.security ?? []).some((s) => Object.keys(s).length === 0);
      const bearer = (operation.security ?? []).some((s) => 'bearerAuth' in s);
      const as: Credential = bearer ? 'owner' : (operation.security ?? []).some((s) => 'operatorBasic' in s) ? 'operator' : 'none';
      const unknownIds = template.replace(/\{[^}]+\}/g, () => randomUUID());
      const probe = async (path: string, options: Parameters<typeof send>[2]) => {
        probes += 1;
        const answer = await send(method.toUpperCase(), path, options);
        expect(answer.status, `${method.toUpperCase()} ${path}`).toBeGreaterThanOrEqual(400);
        expect(answer.headers.get('content-type'), `${method.toUpperCase()} ${path}`).toMatch(/^application\/problem\+json/);
      };
      if (secured) await probe(unknownIds, { as: 'none' });
      if (template.includes('{')) await probe(unknownIds, { as, ...(operation.requestBody ? { body: {} } : {}) });
      if (operation.requestBody) {
        const path = template.includes('{') ? unknownIds : template;
        await probe(path, { as, raw: 'name=x', contentType: 'text/plain' });
        await probe(path, { as, raw: '{"unterminated', contentType: 'application/json' });
      }
    }
    expect(probes).toBeGreaterThan(50);
    noNewMismatches();
  });

  it('notices an answer that differs from the document', async () => {
    const [job] = (await send('GET', '/api/jobs?type=diffusion&status=completed&limit=1')).body.data as Array<{ id: string }>;
    const response = await fetch(`${base}/api/jobs/${job!.id}`, { headers: authorization('key') });
    const text = await response.text();
    const real = JSON.parse(text) as Record<string, unknown>;
    const recheck = (body: unknown, headers = response.headers, status = 200) =>
      checker.check('GET', `/api/jobs/${job!.id}`, status, headers, JSON.stringify(body));
    expect(recheck(real)).toEqual([]);
    // A field the document does not name, a result of another type, a missing field, an undeclared status and header.
    expect(recheck({ ...real, extra: 1 }).join('\n')).toMatch(/must NOT have (additional|unevaluated) properties/);
    expect(recheck({ ...real, result: { count: 1, largest: 1, histogram: [1], spans_axis0: false, memory_bytes: 0 } })).not.toEqual([]);
    const { progress: _progress, ...withoutProgress } = real;
    expect(recheck(withoutProgress)).not.toEqual([]);
    expect(recheck(real, response.headers, 418).join('\n')).toMatch(/status not declared/);
    const headers = new Headers(response.headers);
    headers.set('x-surprise', '1');
    expect(recheck(real, headers).join('\n')).toMatch(/header x-surprise is sent but not declared/);
    headers.delete('x-surprise');
    headers.set('ratelimit-remaining', 'plenty');
    expect(recheck(real, headers).join('\n')).toMatch(/header ratelimit-remaining is declared integer/);
    headers.delete('x-request-id');
    expect(recheck(real, headers).join('\n')).toMatch(/required header x-request-id is missing/);
    mismatches.length = 0;
  });

  it('checked an answer of every documented operation', () => {
    const unchecked = checker
      .operations()
      .map(({ method, template }) => `${method.toUpperCase()} ${template}`)
      .filter((key) => !checker.coverage.has(key));
    expect(unchecked).toEqual([]);
    const withoutSuccess = [...checker.coverage].filter(([, statuses]) => ![...statuses].some((s) => s < 300)).map(([key]) => key);
    // GETs and error answers are reached from the document alone; a success of a route that changes
    // something needs a call in the walk above (its body cannot be guessed from a schema).
    expect(withoutSuccess, 'operations whose success answer was never checked: add a call that succeeds to the walk').toEqual([]);
  });
});
