import { describe, expect, it } from 'vitest';
import { usageDay } from '../../shared/usage.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { approvePlanRequest, createApiKey, login, registerTenant, STRONG_PASSWORD } from '../support/identity.ts';

// Sign-in keeps its production limit (5 per IP per 5 minutes); sign-up is opened up so the file
// can make its tenants. With TRUST_PROXY, X-Forwarded-For picks the client address per test.
const env = useTestEnvironment({ RATE_LIMIT_REGISTER_PER_HOUR: '1000', TRUST_PROXY: 'true', RATE_LIMIT_CREDENTIAL_PER_SECOND: '1000' });
const api = useTestApi(env);
// A second server on the same Redis and database, with a tight per-credential burst cap.
const tight = useTestApi(env, { RATE_LIMIT_CREDENTIAL_PER_SECOND: '3' });
// And one with the production sign-up limit (3 per IP per hour).
const strictSignUp = useTestApi(env, { RATE_LIMIT_REGISTER_PER_HOUR: '3' });
// And one whose account lock lasts 3 seconds (same Redis, so it shares the failure counts).
const shortLock = useTestApi(env, { LOGIN_LOCKOUT_MS: '3000' });

const from = (ip: string) => ({ 'x-forwarded-for': ip });

async function problemOf(res: Response): Promise<Record<string, unknown>> {
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (await res.json()) as Record<string, unknown>;
}

describe('per-IP limits on sign-in and sign-up', () => {
  it('cuts off a sign-in brute force from one address with 429 and Retry-After', async () => {
    const tenant = await registerTenant(api);
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const res = await api.request('/auth/login', { body: { email: tenant.email, password: `guess-number-${attempt}` }, headers: from('203.0.113.7') });
      statuses.push(res.status);
      expect(res.headers.get('ratelimit-limit')).toBe('5');
      expect(res.headers.get('ratelimit-remaining')).toBe(String(4 - attempt));
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401]);

    // The sixth try is refused before the password is even checked, right one or not.
    const blocked = await api.request('/auth/login', { body: { email: tenant.email, password: tenant.password }, headers: from('203.0.113.7') });
    expect(blocked.status).toBe(429);
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(200);
    expect(retryAfter).toBeLessThanOrEqual(300);
    expect(blocked.headers.get('ratelimit-remaining')).toBe('0');
    const problem = await problemOf(blocked);
    expect(problem).toMatchObject({ code: 'rate_limited', limit: 'login_attempts_per_ip', limit_value: 5 });
    expect(problem.detail).toMatch(/^Too many failed sign-ins from this address; try again in [45] minutes$/);
    const failures = await env.db('audit_log').where({ tenant_id: tenant.tenantId, action: 'auth.sign_in_failed' }).count('* as n');
    expect(failures).toEqual([{ n: 5 }]);

    // Another address is not affected.
    const elsewhere = await api.request('/auth/login', { body: { email: tenant.email, password: tenant.password }, headers: from('198.51.100.20') });
    expect(elsewhere.status).toBe(200);
  });

  it('counts failed sign-ins only: signing in successfully, again and again, is never refused', async () => {
    const tenant = await registerTenant(api);
    for (let attempt = 0; attempt < 8; attempt++) {
      const res = await api.request('/auth/login', { body: { email: tenant.email, password: tenant.password }, headers: from('203.0.113.99') });
      expect(res.status).toBe(200);
    }
    const wrong = await api.request('/auth/login', { body: { email: tenant.email, password: 'not-the-password' }, headers: from('203.0.113.99') });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('ratelimit-remaining')).toBe('4');
  });

  it('counts sign-ups that made a tenant: refused ones (weak password, taken email) do not use up the hour', async () => {
    const attempt = (n: number, overrides: Record<string, string> = {}) =>
      strictSignUp.request('/api/tenants/register', {
        body: { company_name: `Retry ${n}`, email: `retry-${n}@example.test`, password: STRONG_PASSWORD, first_name: 'Re', last_name: 'Try', plan_code: 'free', ...overrides },
        headers: from('192.0.2.77'),
      });
    expect((await attempt(1, { password: 'password' })).status).toBe(400);
    expect((await attempt(2, { password: 'short' })).status).toBe(400);
    expect((await attempt(1)).status).toBe(201);
    expect((await attempt(1)).status).toBe(409);
    expect([(await attempt(2)).status, (await attempt(3)).status]).toEqual([201, 201]);
    const refused = await attempt(4);
    expect(refused.status).toBe(429);
    expect((await problemOf(refused)).detail).toMatch(/try again in \d+ minutes$/);
  });

  it('limits sign-ups per address, writing nothing for a refused one', async () => {
    const signUp = (n: number) =>
      strictSignUp.request('/api/tenants/register', {
        body: {
          company_name: `Mass ${n}`,
          email: `mass-${n}@example.test`,
          password: STRONG_PASSWORD,
          first_name: 'Mass',
          last_name: 'Signup',
          plan_code: 'free',
        },
        headers: from('192.0.2.55'),
      });
    expect([(await signUp(1)).status, (await signUp(2)).status, (await signUp(3)).status]).toEqual([201, 201, 201]);
    const refused = await signUp(4);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3000);
    expect(await problemOf(refused)).toMatchObject({ code: 'rate_limited', limit: 'registrations_per_ip', limit_value: 3 });
    expect(await env.db('tenants').where({ name: 'Mass 4' }).first()).toBeUndefined();
  });
});

describe('per-account lock after consecutive failed sign-ins', () => {
  let address = 0;
  // Every attempt from a new address, as a distributed guesser would: the per-IP limit never bites.
  const attempt = (server: typeof api, email: string, password: string) =>
    server.request('/auth/login', { body: { email, password }, headers: from(`198.18.${Math.floor(++address / 250)}.${address % 250}`) });

  it('locks an account after 10 wrong passwords from 10 addresses, even for the right password, with Retry-After', async () => {
    const tenant = await registerTenant(api);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await attempt(api, tenant.email, `wrong-guess-${i}`)).status);
    expect(statuses).toEqual(Array(10).fill(401));

    const locked = await attempt(api, tenant.email.toUpperCase(), tenant.password);
    expect(locked.status).toBe(429);
    const retryAfter = Number(locked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(await problemOf(locked)).toMatchObject({ code: 'rate_limited', limit: 'login_failures_per_account', limit_value: 10 });
    // Refused before the password is checked: no new audit row, no sign-in.
    const failures = await env.db('audit_log').where({ tenant_id: tenant.tenantId, action: 'auth.sign_in_failed' }).count('* as n');
    expect(failures).toEqual([{ n: 10 }]);
    expect(await env.db('audit_log').where({ tenant_id: tenant.tenantId, action: 'auth.signed_in' }).first()).toBeUndefined();

    // Other accounts are untouched.
    const other = await registerTenant(api);
    expect((await attempt(api, other.email, other.password)).status).toBe(200);
  });

  it('answers an unknown email exactly like a known one, so the lock enumerates nothing', async () => {
    const known = await registerTenant(api);
    const unknown = `nobody-${known.tenantId}@example.test`;
    const answers = async (email: string) => {
      const out: Array<[number, string]> = [];
      for (let i = 0; i < 11; i++) {
        const res = await attempt(api, email, `wrong-guess-${i}`);
        const body = (await res.json()) as { code: string; detail: string; limit?: string };
        out.push([res.status, `${body.code}|${body.detail}|${body.limit ?? ''}|${res.headers.has('retry-after')}`]);
      }
      return out;
    };
    const forKnown = await answers(known.email);
    expect(forKnown.at(-1)?.[0]).toBe(429);
    expect(await answers(unknown)).toEqual(forKnown);
  });

  it('counts only consecutive failures: a successful sign-in starts the count again', async () => {
    const tenant = await registerTenant(api);
    for (let i = 0; i < 9; i++) expect((await attempt(api, tenant.email, `wrong-guess-${i}`)).status).toBe(401);
    expect((await attempt(api, tenant.email, tenant.password)).status).toBe(200);
    for (let i = 0; i < 9; i++) expect((await attempt(api, tenant.email, `wrong-again-${i}`)).status).toBe(401);
    expect((await attempt(api, tenant.email, tenant.password)).status).toBe(200);
  });

  it('lifts the lock once it expires', async () => {
    const tenant = await registerTenant(api);
    for (let i = 0; i < 10; i++) expect((await attempt(shortLock, tenant.email, `wrong-guess-${i}`)).status).toBe(401);
    const locked = await attempt(shortLock, tenant.email, tenant.password);
    expect(locked.status).toBe(429);
    const retryAfter = Number(locked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3);
    await new Promise((resolve) => setTimeout(resolve, 3100));
    expect((await attempt(shortLock, tenant.email, tenant.password)).status).toBe(200);
  });
});

describe('per-tenant plan limits', () => {
  it('answers 429 to a tenant over its per-minute limit while another tenant is unaffected', async () => {
    const noisy = await registerTenant(api, { plan: 'free' });
    const quiet = await registerTenant(api, { plan: 'free' });
    for (let i = 0; i < 60; i++) {
      const res = await api.request('/api/me', { headers: noisy.headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe('60');
      expect(res.headers.get('ratelimit-remaining')).toBe(String(59 - i));
    }
    const over = await api.request('/api/me', { headers: noisy.headers });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(over.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(await problemOf(over)).toMatchObject({ code: 'rate_limited', limit: 'requests_per_minute', limit_value: 60 });

    // The limit is the tenant's, whatever credential it uses; another tenant is untouched.
    const fresh = await login(api, noisy.email, noisy.password);
    expect((await api.request('/api/me', { headers: { authorization: `Bearer ${fresh.access_token}` } })).status).toBe(429);
    const quietRes = await api.request('/api/me', { headers: quiet.headers });
    expect(quietRes.status).toBe(200);
    expect(quietRes.headers.get('ratelimit-remaining')).toBe('59');
  });

  it('applies a plan upgrade to the very next request, in every API process', async () => {
    const tenant = await registerTenant(api, { plan: 'free', verify: true });
    const key = await createApiKey(api, tenant.accessToken, { scopes: ['usage:read'] });
    // Both servers have the tenant's credentials cached on the free plan.
    for (const server of [api, tight]) {
      for (const headers of [tenant.headers, key.headers]) {
        expect((await server.request('/api/me', { headers })).headers.get('ratelimit-limit')).toBe('60');
      }
    }
    // The upgrade waits for an operator; approving it changes the plan.
    const upgrade = await api.request('/api/subscription', { body: { plan_code: 'starter' }, headers: tenant.headers });
    expect(upgrade.status).toBe(202);
    await approvePlanRequest(api, ((await upgrade.json()) as { pending_request: { id: string } }).pending_request.id);
    // The process that changed the plan drops its cached credentials before it answers.
    for (const headers of [tenant.headers, key.headers]) {
      expect((await api.request('/api/me', { headers })).headers.get('ratelimit-limit')).toBe('300');
    }
    // Another process hears of it over Redis pub/sub, long before the cache's TTL.
    await expect
      .poll(async () => (await tight.request('/api/me', { headers: key.headers })).headers.get('ratelimit-limit'), { timeout: 2_000, interval: 20 })
      .toBe('300');
    expect((await tight.request('/api/me', { headers: tenant.headers })).headers.get('ratelimit-limit')).toBe('300');
  });

  it('caps one credential per second without touching the tenant’s other keys', async () => {
    const tenant = await registerTenant(tight, { plan: 'enterprise' });
    const busy = await createApiKey(tight, tenant.accessToken, { scopes: ['usage:read'] });
    const calm = await createApiKey(tight, tenant.accessToken, { scopes: ['usage:read'] });
    // Twelve requests at once: more than 3 land in one second, however slow the machine.
    const responses = await Promise.all(Array.from({ length: 12 }, () => tight.request('/api/me', { headers: busy.headers })));
    const refused = responses.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const res of refused) {
      expect(await problemOf(res)).toMatchObject({ code: 'rate_limited', limit: 'credential_requests_per_second', limit_value: 3 });
    }
    await Promise.all(responses.filter((r) => r.status !== 429).map((r) => r.arrayBuffer()));
    expect((await tight.request('/api/me', { headers: calm.headers })).status).toBe(200);
  });

  it('refuses calls past the monthly API quota with 429 quota_exceeded, but keeps the way to upgrade open', async () => {
    const tenant = await registerTenant(api, { plan: 'free', verify: true });
    const other = await registerTenant(api, { plan: 'free' });
    // 999 calls made this month: 998 made earlier, and the key creation below.
    await env.db('usage_counters')
      .insert({ tenant_id: tenant.tenantId, day: usageDay(), metric: 'api_calls', value: 998 })
      .onConflict(['tenant_id', 'day', 'metric', 'lane'])
      .merge({ value: env.db.raw('usage_counters.value + 998') });
    const key = await createApiKey(api, tenant.accessToken, { scopes: ['usage:read'] });
    // Calls are counted in memory and written once per USAGE_FLUSH_MS: write them before reading.
    const calls = async () => {
      await api.deps.identity.quota.flush();
      return Number((await env.db('usage_counters').where({ tenant_id: tenant.tenantId, metric: 'api_calls' }).sum('value as n'))[0]?.n);
    };
    expect(await calls()).toBe(999);

    expect((await api.request('/api/api-keys', { headers: tenant.headers })).status).toBe(200);
    expect(await calls()).toBe(1000);
    const over = await api.request('/api/api-keys', { headers: tenant.headers });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await problemOf(over)).toMatchObject({ code: 'quota_exceeded', limit: 'api_calls_per_month', limit_value: 1000, used: 1000 });
    // A refused call is not counted; another tenant on the same plan is unaffected.
    expect(await calls()).toBe(1000);
    expect((await api.request('/api/api-keys', { headers: other.headers })).status).toBe(200);

    // The owner can still see usage and upgrade; the upgrade lifts the quota at once.
    const usage = await api.request('/api/usage', { headers: key.headers });
    expect(usage.status).toBe(200);
    expect(await usage.json()).toMatchObject({ month: { quotas: { api_calls: { limit: 1000, remaining: 0 } } } });
    const upgrade = await api.request('/api/subscription', { body: { plan_code: 'starter' }, headers: tenant.headers });
    expect(upgrade.status).toBe(202);
    await approvePlanRequest(api, ((await upgrade.json()) as { pending_request: { id: string } }).pending_request.id);
    expect((await api.request('/api/api-keys', { headers: tenant.headers })).status).toBe(200);
  });
});
