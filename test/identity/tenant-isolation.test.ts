import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { beforeAll, describe, expect, it } from 'vitest';
import { TENANT_TABLES as TENANT_TABLES_0006 } from '../../migrations/0006_row_level_security.ts';
import { TENANT_TABLES_0008 } from '../../migrations/0008_plan_requests_compute.ts';
import { TENANT_TABLES_0009 } from '../../migrations/0009_lattice_versions_result_summaries.ts';
import { TENANT_TABLES_0015 } from '../../migrations/0015_blobs.ts';
import { TENANT_TABLES_0016 } from '../../migrations/0016_batches.ts';
import { APP_ROLE, withTenant } from '../../shared/db.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createApiKey, IDENTITY_TEST_ENV, login, type RegisteredTenant, registerTenant } from '../support/identity.ts';
import { insertLattice } from '../support/lattices.ts';

const TENANT_TABLES = [...TENANT_TABLES_0006, ...TENANT_TABLES_0008, ...TENANT_TABLES_0009, ...TENANT_TABLES_0015, ...TENANT_TABLES_0016];


const env = useTestEnvironment(IDENTITY_TEST_ENV);
const api = useTestApi(env);

let a: RegisteredTenant;
let b: RegisteredTenant;
let bKey: { id: string; key: string; headers: { authorization: string } };

beforeAll(async () => {
  a = await registerTenant(api, { companyName: 'Alpha' });
  b = await registerTenant(api, { companyName: 'Beta' });
  await createApiKey(api, a.accessToken, { name: 'alpha key', scopes: ['usage:read'] });
  bKey = await createApiKey(api, b.accessToken, { name: 'beta key', scopes: ['usage:read', 'jobs:read'] });
  // Give B rows in more tables: a session, a sign-out, usage and a lattice.
  const session = await login(api, b.email, b.password);
  await api.request('/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${session.access_token}` } });
  await api.request('/api/usage', { headers: bKey.headers });
  await insertLattice(env.db, b.tenantId, { name: 'beta grid', spec: { shape: [4, 4] } });
});

describe('tenant isolation', () => {
  it("answers 404 to every route given another tenant's ids, and changes nothing", async () => {
    const res = await api.request(`/api/api-keys/${bKey.id}`, { method: 'DELETE', headers: a.headers });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await res.json()) as { code: string }).code).toBe('not_found');
    expect(await env.db('api_keys').where({ id: bKey.id }).first('revoked_at')).toEqual({ revoked_at: null });
    expect((await api.request('/api/me', { headers: bKey.headers })).status).toBe(200);
  });

  it("lists, shows and counts only the caller's own tenant", async () => {
    const keys = (await (await api.request('/api/api-keys', { headers: a.headers })).json()) as { data: Array<{ name: string }> };
    expect(keys.data.map((k) => k.name)).toEqual(['alpha key']);

    const me = (await (await api.request('/api/me', { headers: a.headers })).json()) as { tenant: { id: string; name: string } };
    expect(me.tenant).toMatchObject({ id: a.tenantId, name: 'Alpha' });

    // Calls are counted in memory and written once per USAGE_FLUSH_MS: write them before reading.
    await api.deps.identity.quota.flush();
    const bCalls = Number((await env.db('usage_counters').where({ tenant_id: b.tenantId, metric: 'api_calls' }).sum('value as n'))[0]?.n);
    const aCalls = Number((await env.db('usage_counters').where({ tenant_id: a.tenantId, metric: 'api_calls' }).sum('value as n'))[0]?.n);
    const usage = (await (await api.request('/api/usage', { headers: a.headers })).json()) as { totals: { api_calls: number } };
    // The usage call itself was counted before the totals were read.
    expect(usage.totals.api_calls).toBe(aCalls + 1);
    expect(bCalls).toBeGreaterThan(0);
  });

  it("refuses a genuine signature over one tenant's user and another tenant's id", async () => {
    const { signing } = api.deps.identity.keys;
    const now = Math.floor(Date.now() / 1000);
    const token = jwt.sign(
      { sub: a.userId, tenant_id: b.tenantId, role: 'owner', sid: randomUUID(), iat: now, exp: now + 600 },
      signing.privateKey,
      { algorithm: 'RS256', keyid: signing.kid, issuer: 'catalytic', jwtid: randomUUID() },
    );
    const res = await api.request('/api/me', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
  });

  it("shows a raw query as the app role inside tenant A's transaction no row of tenant B", async () => {
    const seen = await withTenant(env.db, a.tenantId, async (trx) => {
      const role = ((await trx.raw('select current_user as role')).rows[0] as { role: string }).role;
      const counts: Record<string, number> = {};
      for (const [table, column] of TENANT_TABLES) {
        const { rows } = await trx.raw(`select count(*)::int as n from ${table} where ${column} = ?`, [b.tenantId]);
        counts[table] = (rows[0] as { n: number }).n;
      }
      const everything = (await trx.raw('select * from users')).rows as Array<{ tenant_id: string }>;
      return { role, counts, userTenants: everything.map((r) => r.tenant_id) };
    });
    expect(seen.role).toBe(APP_ROLE);
    expect(Object.values(seen.counts).every((n) => n === 0)).toBe(true);
    expect(seen.userTenants).toEqual([a.tenantId]);

    // The owner connection sees B's rows in the same tables, so the zeros above are RLS's doing.
    for (const table of ['tenants', 'users', 'api_keys', 'refresh_tokens', 'audit_log', 'usage_counters', 'lattices']) {
      const column = TENANT_TABLES.find(([t]) => t === table)?.[1] as string;
      const [{ n }] = (await env.db(table).where(column, b.tenantId).count('* as n')) as [{ n: number }];
      expect(n, table).toBeGreaterThan(0);
    }
  });
});
