import { describe, expect, it } from 'vitest';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createApiKey, IDENTITY_TEST_ENV, login, registerTenant, STRONG_PASSWORD } from '../support/identity.ts';

const env = useTestEnvironment(IDENTITY_TEST_ENV);
const api = useTestApi(env);

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function problem(res: Response, status: number, code?: string): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await res.json()) as Record<string, unknown>;
  if (code) expect(body.code).toBe(code);
  return body;
}

async function auditActions(tenantId: string): Promise<string[]> {
  const rows = await env.db('audit_log').where({ tenant_id: tenantId }).orderBy('created_at').select('action');
  return rows.map((r: { action: string }) => r.action);
}

describe('a tenant signs up, signs in and automates', () => {
  it('walks the whole journey: sign-up, sign-in, refresh, reuse, sign-out, API keys', async () => {
    // Sign-up: tenant, owner and a working token pair.
    const res = await api.request('/api/tenants/register', {
      body: {
        company_name: 'Quokka Labs',
        email: 'Founder@Quokka.example',
        password: STRONG_PASSWORD,
        first_name: 'Ada',
        last_name: 'Lovelace',
        plan_code: 'free',
      },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const signup = (await res.json()) as {
      tenant: { id: string; name: string; plan_code: string; status: string };
      user: { id: string; email: string; role: string };
      tokens: { access_token: string; refresh_token: string; token_type: string; expires_in: number; refresh_expires_in: number };
    };
    expect(signup.tenant).toMatchObject({ name: 'Quokka Labs', plan_code: 'free', status: 'active' });
    expect(signup.user).toMatchObject({ email: 'Founder@Quokka.example', role: 'owner' });
    expect(signup.user).not.toHaveProperty('password_hash');
    expect(signup.tokens).toMatchObject({ token_type: 'Bearer', expires_in: 900, refresh_expires_in: 30 * 24 * 3600 });
    const tenantId = signup.tenant.id;

    // The password is stored as a scrypt hash, never in clear.
    const stored = await env.db('users').where({ id: signup.user.id }).first('password_hash');
    expect(stored.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(stored.password_hash).not.toContain(STRONG_PASSWORD);

    const me = await api.request('/api/me', { headers: bearer(signup.tokens.access_token) });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({
      kind: 'user',
      role: 'owner',
      tenant: { id: tenantId, plan_code: 'free' },
      user: { id: signup.user.id },
      api_key: null,
    });

    // Sign-in is case-insensitive on the email; a wrong password is a 401 problem.
    await problem(await api.request('/auth/login', { body: { email: 'founder@quokka.example', password: 'not-the-password-1' } }), 401, 'invalid_credentials');
    await problem(await api.request('/auth/login', { body: { email: 'nobody@quokka.example', password: STRONG_PASSWORD } }), 401, 'invalid_credentials');
    const session = await login(api, 'FOUNDER@quokka.example', STRONG_PASSWORD);
    expect((await api.request('/api/me', { headers: bearer(session.access_token) })).status).toBe(200);

    // Refresh rotates: a new pair, and the new access token works.
    const refreshed1 = await api.request('/auth/refresh', { body: { refresh_token: session.refresh_token } });
    expect(refreshed1.status).toBe(200);
    const pair1 = (await refreshed1.json()) as { access_token: string; refresh_token: string };
    expect(pair1.refresh_token).not.toBe(session.refresh_token);
    expect((await api.request('/api/me', { headers: bearer(pair1.access_token) })).status).toBe(200);
    const refreshed2 = await api.request('/auth/refresh', { body: { refresh_token: pair1.refresh_token } });
    expect(refreshed2.status).toBe(200);
    const pair2 = (await refreshed2.json()) as { access_token: string; refresh_token: string };

    // Presenting a spent refresh token revokes the whole family, access tokens included.
    await problem(await api.request('/auth/refresh', { body: { refresh_token: session.refresh_token } }), 401, 'invalid_token');
    await problem(await api.request('/auth/refresh', { body: { refresh_token: pair2.refresh_token } }), 401, 'invalid_token');
    await problem(await api.request('/api/me', { headers: bearer(pair2.access_token) }), 401, 'invalid_token');
    const family = await env.db('refresh_tokens').where({ user_id: signup.user.id }).whereNotNull('used_at').first('family_id');
    const alive = await env.db('refresh_tokens').where({ family_id: family.family_id }).whereNull('revoked_at').count('* as n');
    expect(alive).toEqual([{ n: 0 }]);
    // The sign-up session is another family and still works.
    expect((await api.request('/api/me', { headers: bearer(signup.tokens.access_token) })).status).toBe(200);

    // Sign-out: the access token fails at once, and so does its refresh token.
    const logout = await api.request('/auth/logout', { method: 'POST', headers: bearer(signup.tokens.access_token) });
    expect(logout.status).toBe(204);
    await problem(await api.request('/api/me', { headers: bearer(signup.tokens.access_token) }), 401, 'invalid_token');
    await problem(await api.request('/auth/refresh', { body: { refresh_token: signup.tokens.refresh_token } }), 401, 'invalid_token');
    const revokedKeys = await env.redis.keys(`${env.redisPrefix}:revoked:jti:*`);
    expect(revokedKeys).toHaveLength(1);
    const ttl = await env.redis.pttl(revokedKeys[0] as string);
    expect(ttl).toBeGreaterThan(800_000);
    expect(ttl).toBeLessThanOrEqual(900_000);

    // API keys: shown once, work with their scopes and not beyond.
    const owner = await login(api, 'founder@quokka.example', STRONG_PASSWORD);
    const reader = await createApiKey(api, owner.access_token, { name: 'ci reader', scopes: ['usage:read', 'jobs:read'] });
    expect(reader.key).toMatch(/^ck_[A-Za-z0-9]{8}_/);
    const keyRow = await env.db('api_keys').where({ id: reader.id }).first('prefix', 'key_hash');
    expect(reader.key.startsWith(`ck_${keyRow.prefix}_`)).toBe(true);
    expect(keyRow.key_hash).not.toContain(reader.key);

    const usage = await api.request('/api/usage', { headers: reader.headers });
    expect(usage.status).toBe(200);
    const keyMe = (await (await api.request('/api/me', { headers: reader.headers })).json()) as Record<string, unknown>;
    expect(keyMe).toMatchObject({ kind: 'api_key', role: 'member', scopes: ['jobs:read', 'usage:read'], api_key: { id: reader.id } });

    const writer = await createApiKey(api, owner.access_token, { name: 'no usage', scopes: ['jobs:write'] });
    const denied = await problem(await api.request('/api/usage', { headers: writer.headers }), 403, 'insufficient_scope');
    expect(denied.required_scopes).toEqual(['usage:read']);
    // A key acts as a member: no plan changes, no key management.
    await problem(await api.request('/api/subscription', { body: { plan_code: 'free' }, headers: reader.headers }), 403, 'forbidden');
    await problem(await api.request('/api/api-keys', { headers: reader.headers }), 403, 'forbidden');

    // The list shows keys without secrets; revoking one stops it at once.
    const list = (await (await api.request('/api/api-keys', { headers: bearer(owner.access_token) })).json()) as {
      data: Array<Record<string, unknown>>;
    };
    expect(list.data.map((k) => k.id).sort()).toEqual([reader.id, writer.id].sort());
    for (const key of list.data) {
      expect(key).not.toHaveProperty('key');
      expect(key).not.toHaveProperty('key_hash');
    }
    expect((await api.request(`/api/api-keys/${reader.id}`, { method: 'DELETE', headers: bearer(owner.access_token) })).status).toBe(204);
    await problem(await api.request('/api/usage', { headers: reader.headers }), 401, 'invalid_token');
    // Revoking again is harmless.
    expect((await api.request(`/api/api-keys/${reader.id}`, { method: 'DELETE', headers: bearer(owner.access_token) })).status).toBe(204);

    expect(await auditActions(tenantId)).toEqual([
      'tenant.registered',
      'auth.sign_in_failed',
      'auth.signed_in',
      'auth.refresh_reused',
      'auth.signed_out',
      'auth.signed_in',
      'api_key.created',
      'api_key.created',
      'api_key.revoked',
    ]);
    // A failed sign-in for an unknown email is audited without a tenant.
    expect(await env.db('audit_log').whereNull('tenant_id').where({ action: 'auth.sign_in_failed' }).count('* as n')).toEqual([{ n: 1 }]);
  });

  it('refuses a second account with the same email, whatever its case, and writes nothing', async () => {
    const first = await registerTenant(api, { email: 'twice@example.test' });
    const tenantsBefore = await env.db('tenants').count('* as n');
    const res = await api.request('/api/tenants/register', {
      body: {
        company_name: 'Copycat',
        email: 'TWICE@example.test',
        password: STRONG_PASSWORD,
        first_name: 'Eve',
        last_name: 'Copy',
        plan_code: 'free',
      },
    });
    await problem(res, 409, 'conflict');
    expect(await env.db('tenants').count('* as n')).toEqual(tenantsBefore);
    expect(await env.db('tenants').where({ name: 'Copycat' }).first()).toBeUndefined();
    expect(first.tenantId).toBeTruthy();
  });

  it('lets only the owner change the plan, a downgrade at once, and audits it', async () => {
    const tenant = await registerTenant(api, { plan: 'enterprise' });
    // An admin of the tenant cannot change the plan.
    await env.db('users').insert({
      tenant_id: tenant.tenantId,
      email: `admin-${tenant.tenantId}@example.test`,
      first_name: 'Ad',
      last_name: 'Min',
      password_hash: (await env.db('users').where({ id: tenant.userId }).first('password_hash')).password_hash,
      role: 'admin',
    });
    const admin = await login(api, `admin-${tenant.tenantId}@example.test`, tenant.password);
    await problem(await api.request('/api/subscription', { body: { plan_code: 'free' }, headers: bearer(admin.access_token) }), 403, 'forbidden');
    await problem(await api.request('/api/subscription/request', { method: 'DELETE', headers: bearer(admin.access_token) }), 403, 'forbidden');

    const changed = await api.request('/api/subscription', { body: { plan_code: 'free' }, headers: tenant.headers });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ plan_code: 'free', plan: { weight: 1, api_calls_per_month: 1_000 } });
    // The very next request sees the new plan, with the same access token.
    const current = await api.request('/api/subscription', { headers: tenant.headers });
    expect(await current.json()).toMatchObject({ plan_code: 'free' });
    expect((await api.request('/api/me', { headers: tenant.headers })).headers.get('ratelimit-limit')).toBe('60');

    const audit = await env.db('audit_log')
      .where({ tenant_id: tenant.tenantId, action: 'subscription.changed', user_id: tenant.userId })
      .first('details', 'user_id');
    expect(audit).toMatchObject({ details: { from: 'enterprise', to: 'free' }, user_id: tenant.userId });
  });

  it('publishes the plans publicly', async () => {
    const res = await api.request('/api/plans');
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: Array<Record<string, unknown>> };
    expect(data.map((p) => p.code)).toEqual(['free', 'starter', 'professional', 'enterprise']);
    expect(data[0]).toMatchObject({ max_lattices: 5, max_dimensions: 3, max_side: 10, api_calls_per_month: 1000, weight: 1, max_concurrent_jobs: 2 });
    expect(data[3]).toMatchObject({ price_cents: 49_999, max_lattices: -1, weight: 8, max_concurrent_jobs: 64 });
  });
});
