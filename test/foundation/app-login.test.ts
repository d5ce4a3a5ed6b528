/**
 * The API's database login cannot bypass row-level security: this file makes such a login (a
 * member of the application role, NOBYPASSRLS, not a superuser), shows that it sees no tenant's
 * rows without a tenant, and runs the API on it: sign-up, sign-in, refresh, API keys and the
 * readiness check work through the migrations' SECURITY DEFINER functions alone.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ROLE, loginCanBypassRls } from '../../shared/db.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createApiKey, IDENTITY_TEST_ENV, login, registerTenant } from '../support/identity.ts';
import { createTestTenant } from '../support/tenants.ts';

const env = useTestEnvironment(IDENTITY_TEST_ENV);
const LOGIN = `catalytic_test_login_${randomBytes(4).toString('hex')}`;
let loginUrl = '';
// Filled in before the API starts (hooks run in the order they are registered).
const overrides: Record<string, string> = {};

beforeAll(async () => {
  await env.db.raw(`create role ${LOGIN} login nosuperuser nobypassrls in role ${APP_ROLE}`);
  const url = new URL(env.env.DATABASE_URL as string);
  url.username = LOGIN;
  loginUrl = url.toString();
  overrides.DATABASE_URL = loginUrl;
  overrides.DATABASE_OWNER_URL = env.env.DATABASE_URL as string;
});
const api = useTestApi(env, overrides);
afterAll(async () => {
  await api.server?.close();
  await api.deps?.runtime.close();
  await env.db.raw(`drop role if exists ${LOGIN}`);
});

async function asLogin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: loginUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('the API login', () => {
  it('cannot bypass row-level security and sees no tenant rows without a tenant', async () => {
    const tenant = await createTestTenant(env.db);
    const seen = await asLogin(async (client) => {
      const role = (await client.query('select rolsuper, rolbypassrls from pg_roles where rolname = current_user')).rows[0];
      const counts: Record<string, number> = {};
      for (const table of ['tenants', 'users', 'api_keys', 'refresh_tokens', 'audit_log', 'lattices', 'jobs', 'webhooks', 'usage_counters']) {
        counts[table] = Number((await client.query(`select count(*) as n from ${table}`)).rows[0].n);
      }
      // Nor can it switch row-level security off: the query is refused instead.
      await client.query('set row_security = off');
      const off = await client.query('select count(*) from users').then(
        () => 'read',
        (err: Error) => err.message,
      );
      return { role, counts, off };
    });
    expect(seen.role).toEqual({ rolsuper: false, rolbypassrls: false });
    expect(seen.counts).toEqual({ tenants: 0, users: 0, api_keys: 0, refresh_tokens: 0, audit_log: 0, lattices: 0, jobs: 0, webhooks: 0, usage_counters: 0 });
    expect(seen.off).toMatch(/row-level security/);
    // What the API checks at start-up in production: this login is fine, the owner's is not.
    expect(await loginCanBypassRls(api.deps.runtime.db)).toBe(false);
    expect(await loginCanBypassRls(env.db)).toBe(true);
    // The owner sees the tenant that the login could not.
    expect(await env.db('users').where({ tenant_id: tenant.tenantId }).count('* as n')).toEqual([{ n: 1 }]);
  });

  it('sees no tenant rows without a tenant even when switched to the application role', async () => {
    await createTestTenant(env.db);
    const counts = await asLogin(async (client) => {
      await client.query(`set role ${APP_ROLE}`);
      return Promise.all(['tenants', 'users', 'api_keys'].map(async (t) => Number((await client.query(`select count(*) as n from ${t}`)).rows[0].n)));
    });
    expect(counts).toEqual([0, 0, 0]);
  });

  it('reads across tenants only through the definer functions, which return one exact match', async () => {
    const tenant = await createTestTenant(env.db);
    const email = (await env.db('users').where({ id: tenant.userId }).first('email')).email as string;
    const found = await asLogin(async (client) => ({
      user: (await client.query('select * from catalytic_sign_in_user($1)', [email.toUpperCase()])).rows,
      none: (await client.query('select * from catalytic_sign_in_user($1)', ['%'])).rows,
      key: (await client.query('select * from catalytic_api_key_by_hash($1)', ['not-a-hash'])).rows,
    }));
    expect(found.user).toHaveLength(1);
    expect(Object.keys(found.user[0]).sort()).toEqual(['id', 'password_hash', 'role', 'tenant_id', 'tenant_status']);
    expect(found.none).toEqual([]);
    expect(found.key).toEqual([]);
  });

  it('runs the API: sign-up, sign-in, failed sign-ins, refresh, API keys, tenant reads and readiness', async () => {
    const owner = await registerTenant(api);
    const pair = await login(api, owner.email, owner.password);
    expect((await api.request('/auth/login', { body: { email: owner.email, password: 'Wrong-Password-123!' } })).status).toBe(401);
    expect((await api.request('/auth/login', { body: { email: `nobody-${owner.tenantId}@example.test`, password: 'Wrong-Password-123!' } })).status).toBe(401);
    const failures = await env.db('audit_log').where({ action: 'auth.sign_in_failed' }).whereRaw(`details->>'email' in (?, ?)`, [owner.email, `nobody-${owner.tenantId}@example.test`]).select('tenant_id');
    expect(failures.map((f: { tenant_id: string | null }) => f.tenant_id).sort()).toEqual([owner.tenantId, null].sort());

    const refreshed = await api.request('/auth/refresh', { body: { refresh_token: pair.refresh_token } });
    expect(refreshed.status).toBe(200);
    const key = await createApiKey(api, owner.accessToken, { scopes: ['lattices:read', 'lattices:write', 'usage:read'] });
    expect((await api.request('/api/me', { headers: key.headers })).status).toBe(200);
    expect((await api.request('/api/lattices', { body: { shape: [4, 4] }, headers: key.headers })).status).toBe(201);
    expect((await api.request('/api/lattices', { headers: key.headers })).status).toBe(200);
    expect((await api.request('/api/usage', { headers: key.headers })).status).toBe(200);
    expect((await api.request('/ready')).status).toBe(200);
    // The API's sessions were this login's.
    const sessions = await env.db.raw<{ rows: Array<{ usename: string }> }>('select usename from pg_stat_activity where usename = ?', [LOGIN]);
    expect(sessions.rows.length).toBeGreaterThan(0);
  });
});
