/**
 * The SDK's identity, billing and usage calls against the real API (HTTP, PostgreSQL, Redis):
 * sign-up, sign-in, refresh on 401, sign-out, API keys, plans, subscription, usage; errors arrive
 * as CatalyticApiError with the problem's fields; a real 429 from the API's rate limiter is
 * waited out as its Retry-After says.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CatalyticApiError, CatalyticClient, type SessionTokens } from '../../client/index.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { approvePlanRequest, confirmAddress } from '../support/identity.ts';
import { createTestTenant } from '../support/tenants.ts';
import { recordingFetch, STRONG_PASSWORD } from '../cli/stack.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
// A second API on the same stack whose per-credential limit is 2 requests per second.
const strictApi = useTestApi(env, { RATE_LIMIT_CREDENTIAL_PER_SECOND: '2' });

const email = `owner-${randomUUID().slice(0, 8)}@example.test`;
let owner: CatalyticClient;
const ownerTokens: SessionTokens[] = [];

async function apiError(promise: Promise<unknown>): Promise<CatalyticApiError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(CatalyticApiError);
  return error as CatalyticApiError;
}

beforeAll(async () => {
  owner = new CatalyticClient({ baseUrl: api.url, onTokens: (tokens) => void (tokens && ownerTokens.push(tokens)) });
  const registration = await owner.auth.register({
    company_name: 'Lattice Works',
    email,
    password: STRONG_PASSWORD,
    first_name: 'Grace',
    last_name: 'Hopper',
    plan_code: 'professional',
  });
  // A paid plan is requested once the address is confirmed; the operator approves it.
  expect(registration.tenant).toMatchObject({ name: 'Lattice Works', plan_code: 'free', status: 'active' });
  expect(registration).toMatchObject({ plan_request: null, requested_plan: 'professional' });
  expect(registration.user).toMatchObject({ email, role: 'owner' });
  const request = await confirmAddress(api, registration.tenant.id, registration.user.id);
  await approvePlanRequest(api, request?.id as string);
});

describe('sessions', () => {
  it('registers and uses the new session at once', async () => {
    expect(ownerTokens).toHaveLength(1);
    const me = await owner.me();
    expect(me).toMatchObject({ kind: 'user', role: 'owner', user: { email } });
    expect(me.scopes).toContain('jobs:write');
  });

  it('logs in, refreshes a rejected access token once with the refresh token, and logs out', async () => {
    const reported: Array<SessionTokens | undefined> = [];
    const client = new CatalyticClient({ baseUrl: api.url, onTokens: (tokens) => void reported.push(tokens) });
    const pair = await client.auth.login(email, STRONG_PASSWORD);
    expect(pair).toMatchObject({ token_type: 'Bearer', expires_in: expect.any(Number), refresh_token: expect.stringMatching(/^crt_/) });

    // A client holding a broken access token but a good refresh token recovers on the 401.
    const refreshed: Array<SessionTokens | undefined> = [];
    const recovering = new CatalyticClient({
      baseUrl: api.url,
      tokens: { accessToken: 'not-a-valid-token', refreshToken: pair.refresh_token },
      onTokens: (tokens) => void refreshed.push(tokens),
    });
    expect((await recovering.me()).user?.email).toBe(email);
    expect(refreshed).toHaveLength(1);
    expect(refreshed[0]?.refreshToken).not.toBe(pair.refresh_token);

    // An access token about to expire is refreshed before the request.
    const early = new CatalyticClient({
      baseUrl: api.url,
      tokens: { ...refreshed[0]!, accessTokenExpiresAt: Date.now() - 1000 },
      onTokens: (tokens) => void refreshed.push(tokens),
    });
    await early.me();
    expect(refreshed).toHaveLength(2);

    // A refresh token the API refuses leaves the caller with the API's 401.
    const lost = new CatalyticClient({ baseUrl: api.url, tokens: { accessToken: 'not-a-valid-token', refreshToken: `crt_${'x'.repeat(43)}` } });
    const unauthorized = await apiError(lost.me());
    expect(unauthorized).toMatchObject({ status: 401, isAuthError: true });

    const accessToken = client.http.sessionTokens!.accessToken;
    await client.auth.logout();
    expect(reported.at(-1)).toBeUndefined();
    const after = new CatalyticClient({ baseUrl: api.url, tokens: { accessToken } });
    expect(await apiError(after.me())).toMatchObject({ status: 401, code: 'invalid_token' });
  });

  it('reports a wrong password as a typed 401 with the problem fields', async () => {
    const client = new CatalyticClient({ baseUrl: api.url });
    const error = await apiError(client.auth.login(email, 'wrong password entirely'));
    expect(error).toMatchObject({ status: 401, code: 'invalid_credentials', type: '/problems/invalid_credentials', instance: '/auth/login' });
    expect(error.title).toBeTruthy();
    expect(error.requestId).toMatch(/\S/);
  });

  it('reports a refused sign-up field by field', async () => {
    const client = new CatalyticClient({ baseUrl: api.url });
    const error = await apiError(
      client.auth.register({ company_name: 'X', email: 'not-an-email', password: 'short', first_name: 'A', last_name: 'B', plan_code: 'free' }),
    );
    expect(error).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(error.errors.map((e) => e.path)).toEqual(expect.arrayContaining(['body.email', 'body.password']));
  });

  it('fetches the public signing keys', async () => {
    const jwks = await new CatalyticClient({ baseUrl: api.url }).auth.jwks();
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256' });
  });
});

describe('API keys, plans, subscription and usage', () => {
  it('creates a scoped key that works, is refused beyond its scopes, and stops working once revoked', async () => {
    const created = await owner.apiKeys.create({ name: 'ci', scopes: ['jobs:read', 'lattices:read'] });
    expect(created.key).toMatch(/^ck_/);
    const keyClient = new CatalyticClient({ baseUrl: api.url, apiKey: created.key });
    expect(await keyClient.me()).toMatchObject({ kind: 'api_key', api_key: { id: created.id, name: 'ci' } });

    const forbidden = await apiError(keyClient.usage());
    expect(forbidden).toMatchObject({ status: 403, code: 'insufficient_scope', isAuthError: true });
    expect(forbidden.problem.required_scopes).toEqual(['usage:read']);

    expect((await owner.apiKeys.list()).map((k) => k.id)).toContain(created.id);
    await owner.apiKeys.revoke(created.id);
    expect((await owner.apiKeys.list()).find((k) => k.id === created.id)?.revoked_at).not.toBeNull();
    expect(await apiError(keyClient.me())).toMatchObject({ status: 401, code: 'invalid_token' });

    expect(await apiError(owner.apiKeys.revoke(randomUUID()))).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('lists plans, changes the subscription and reads usage', async () => {
    const plans = await owner.plans();
    expect(plans.map((p) => p.code)).toEqual(['free', 'starter', 'professional', 'enterprise']);

    expect(await owner.subscription.get()).toMatchObject({ plan_code: 'professional', pending_request: null });
    // An upgrade waits for approval; the tenant may withdraw it.
    const asked = await owner.subscription.change('enterprise');
    expect(asked).toMatchObject({ plan_code: 'professional', pending_request: { to_plan: 'enterprise', status: 'pending' } });
    expect(await owner.subscription.cancelRequest()).toMatchObject({ id: asked.pending_request?.id, status: 'cancelled' });
    const again = await owner.subscription.change('enterprise');
    await approvePlanRequest(api, again.pending_request?.id as string);
    expect(await owner.subscription.get()).toMatchObject({ plan_code: 'enterprise', plan: { code: 'enterprise', max_lattices: -1 } });

    const usage = await owner.usage();
    expect(usage.month.quotas.api_calls.limit).toBe(-1);
    expect(usage.month.totals.api_calls).toBeGreaterThan(0);
    const today = new Date().toISOString().slice(0, 10);
    expect((await owner.usage({ from: today, to: today })).days).toHaveLength(1);
    expect(await apiError(owner.usage({ from: today, to: '2000-01-01' }))).toMatchObject({ status: 400, code: 'validation_failed' });
  });
});

describe('rate limits', () => {
  it('waits out a real 429 for as long as Retry-After says, then succeeds', async () => {
    const tenant = await createTestTenant(env.db);
    const recorder = recordingFetch();
    const client = new CatalyticClient({ baseUrl: strictApi.url, apiKey: tenant.apiKey, fetch: recorder.fetch, retry: { retries: 5 } });
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 5 }, () => client.me()));
    expect(answers.every((me) => me.tenant.id === tenant.tenantId)).toBe(true);

    const refused = recorder.answers.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(3);
    for (const answer of refused) expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
    // The five first attempts went out together; every later request is a retry, sent no
    // sooner than the Retry-After of the first refusal.
    const firstRefusal = refused.reduce((a, b) => (b.at < a.at ? b : a));
    const retries = recorder.answers.filter((a) => a.sentAt >= firstRefusal.at);
    expect(retries.length).toBe(refused.length);
    expect(Math.min(...retries.map((a) => a.sentAt)) - firstRefusal.at).toBeGreaterThanOrEqual(Number(firstRefusal.retryAfter) * 1000 - 10);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('hands the 429 to the caller when retries are off', async () => {
    const tenant = await createTestTenant(env.db);
    const client = new CatalyticClient({ baseUrl: strictApi.url, apiKey: tenant.apiKey, retry: { retries: 0 } });
    const settled = await Promise.allSettled(Array.from({ length: 4 }, () => client.me()));
    const refused = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason as CatalyticApiError);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused[0]).toBeInstanceOf(CatalyticApiError);
    expect(refused[0]).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(refused[0]!.retryAfterMs).toBeGreaterThanOrEqual(1000);
    expect(refused[0]!.problem.limit).toBe('credential_requests_per_second');
  });
});
