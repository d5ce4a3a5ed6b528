import { describe, expect, it } from 'vitest';
import { generateApiKey } from '../../shared/auth/api-key-format.ts';
import { SCOPES } from '../../shared/auth/principal.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { IDENTITY_TEST_ENV } from '../support/identity.ts';
import { createTestTenant } from '../support/tenants.ts';

// An API key acts with its own scopes within its creator's CURRENT rights. The changes below are
// made in SQL (no route changes roles or removes users), which reaches a cached principal within
// PRINCIPAL_CACHE_TTL_MS: one server reads credentials on every request, one caches for 300 ms.
const env = useTestEnvironment(IDENTITY_TEST_ENV);
const uncached = useTestApi(env, { PRINCIPAL_CACHE_TTL_MS: '0' });
const shortTtl = useTestApi(env, { PRINCIPAL_CACHE_TTL_MS: '300' });

/** An admin of the tenant with a key made while admin, carrying every scope. */
async function adminWithKey(tenantId: string) {
  const [user] = await env.db('users')
    .insert({ tenant_id: tenantId, email: `admin-${generateApiKey().prefix}@example.test`, first_name: 'Ad', last_name: 'Min', password_hash: '!', role: 'admin' })
    .returning('id');
  const userId = (user as { id: string }).id;
  const key = generateApiKey();
  const [row] = await env.db('api_keys')
    .insert({ tenant_id: tenantId, user_id: userId, name: 'admin key', prefix: key.prefix, key_hash: key.hash, scopes: [...SCOPES] })
    .returning('id');
  return { userId, keyId: (row as { id: string }).id, headers: { authorization: `Bearer ${key.key}` } };
}

const createLattice = (server: typeof uncached, headers: Record<string, string>) =>
  server.request('/api/lattices', { body: { shape: [4, 4] }, headers });
const me = async (server: typeof uncached, headers: Record<string, string>) => {
  const res = await server.request('/api/me', { headers });
  return { status: res.status, body: (await res.json()) as { role?: string; scopes?: string[] } };
};

describe('API keys within their creator’s current rights', () => {
  it('loses write scopes when its creator is demoted to viewer, and gets them back on promotion', async () => {
    const tenant = await createTestTenant(env.db);
    const admin = await adminWithKey(tenant.tenantId);
    expect((await createLattice(uncached, admin.headers)).status).toBe(201);
    expect((await createLattice(shortTtl, admin.headers)).status).toBe(201);

    await env.db('users').where({ id: admin.userId }).update({ role: 'viewer' });
    const refused = await createLattice(uncached, admin.headers);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'insufficient_scope' });
    expect(await me(uncached, admin.headers)).toMatchObject({
      status: 200,
      body: { role: 'viewer', scopes: ['jobs:read', 'lattices:read', 'usage:read', 'webhooks:read'] },
    });
    expect((await uncached.request('/api/lattices', { headers: admin.headers })).status).toBe(200);
    // A caching process applies it within its TTL.
    await expect.poll(async () => (await createLattice(shortTtl, admin.headers)).status, { timeout: 3_000, interval: 50 }).toBe(403);

    await env.db('users').where({ id: admin.userId }).update({ role: 'admin' });
    expect((await createLattice(uncached, admin.headers)).status).toBe(201);
    // Still never more than a member, whatever its creator is.
    expect(await me(uncached, admin.headers)).toMatchObject({ body: { role: 'member' } });
  });

  it('is revoked when its creator is deleted, even by SQL, and never falls back to member', async () => {
    const tenant = await createTestTenant(env.db);
    const admin = await adminWithKey(tenant.tenantId);
    expect((await createLattice(uncached, admin.headers)).status).toBe(201);
    expect((await me(shortTtl, admin.headers)).status).toBe(200);

    await env.db('users').where({ id: admin.userId }).delete();
    const row = await env.db('api_keys').where({ id: admin.keyId }).first('user_id', 'revoked_at');
    expect(row.user_id).toBeNull();
    expect(row.revoked_at).toBeInstanceOf(Date);
    expect((await me(uncached, admin.headers)).status).toBe(401);
    expect((await createLattice(uncached, admin.headers)).status).toBe(401);
    await expect.poll(async () => (await me(shortTtl, admin.headers)).status, { timeout: 3_000, interval: 50 }).toBe(401);
    // The tenant's other keys are untouched.
    expect((await me(uncached, tenant.headers)).status).toBe(200);
    expect(await env.db('api_keys').where({ tenant_id: tenant.tenantId }).whereNull('revoked_at').count('* as n')).toEqual([{ n: 1 }]);
  });

  it('refuses a key without a creator even if its row was never revoked', async () => {
    const tenant = await createTestTenant(env.db);
    const admin = await adminWithKey(tenant.tenantId);
    await env.db('api_keys').where({ id: admin.keyId }).update({ user_id: null });
    expect((await me(uncached, admin.headers)).status).toBe(401);
  });

  it('lets a tenant be deleted with its users and keys', async () => {
    const tenant = await createTestTenant(env.db);
    await adminWithKey(tenant.tenantId);
    await env.db('tenants').where({ id: tenant.tenantId }).delete();
    expect(await env.db('api_keys').where({ tenant_id: tenant.tenantId }).count('* as n')).toEqual([{ n: 0 }]);
  });
});
