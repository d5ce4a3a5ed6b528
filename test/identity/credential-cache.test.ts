import { describe, expect, it } from 'vitest';
import { PrincipalCache, type PrincipalInvalidations } from '../../api/auth/principal-cache.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createApiKey, IDENTITY_TEST_ENV, registerTenant } from '../support/identity.ts';
import { createTestTenant } from '../support/tenants.ts';

const env = useTestEnvironment(IDENTITY_TEST_ENV);
// Two API processes on one database and Redis, with the default 30 s cache.
const one = useTestApi(env);
const two = useTestApi(env);
// One with a short TTL, one with the cache off.
const shortTtl = useTestApi(env, { PRINCIPAL_CACHE_TTL_MS: '300' });
const uncached = useTestApi(env, { PRINCIPAL_CACHE_TTL_MS: '0' });

const status = async (server: typeof one, headers: Record<string, string>) => (await server.request('/api/me', { headers })).status;

async function waitUntilLive(invalidations: PrincipalInvalidations): Promise<void> {
  await expect.poll(() => invalidations.live, { timeout: 5_000, interval: 20 }).toBe(true);
}

describe('credential cache', () => {
  it('serves a cached key until the TTL when it changes outside the API, and reads on every request with TTL 0', async () => {
    const tenant = await createTestTenant(env.db);
    await waitUntilLive(one.deps.identity.credentials.invalidations);
    for (const server of [one, shortTtl, uncached]) expect(await status(server, tenant.headers)).toBe(200);
    // An operator suspends the tenant in SQL: no invalidation is published.
    await env.db('tenants').where({ id: tenant.tenantId }).update({ status: 'suspended' });
    expect(await status(uncached, tenant.headers)).toBe(403);
    expect(await status(one, tenant.headers)).toBe(200);
    await expect.poll(() => status(shortTtl, tenant.headers), { timeout: 5_000, interval: 50 }).toBe(403);
    // Publishing the change (what the API's own writes do) reaches the cached process at once.
    await two.deps.identity.credentials.invalidations.invalidate({ tenantId: tenant.tenantId });
    await expect.poll(() => status(one, tenant.headers), { timeout: 2_000, interval: 20 }).toBe(403);
  });

  it('refuses a revoked key at once in the revoking process and within moments in another', async () => {
    const owner = await registerTenant(one);
    const key = await createApiKey(one, owner.accessToken, { scopes: ['usage:read'] });
    await waitUntilLive(two.deps.identity.credentials.invalidations);
    expect(await status(one, key.headers)).toBe(200);
    expect(await status(two, key.headers)).toBe(200);
    expect(one.deps.identity.credentials.apiKeys.size).toBeGreaterThan(0);

    const revoked = await one.request(`/api/api-keys/${key.id}`, { method: 'DELETE', headers: owner.headers });
    expect(revoked.status).toBe(204);
    expect(await status(one, key.headers)).toBe(401);
    await expect.poll(() => status(two, key.headers), { timeout: 2_000, interval: 20 }).toBe(401);
  });

  it('applies a changed role of an access token’s user once invalidated', async () => {
    // On the free plan: approving a paid sign-up publishes an invalidation of its own, which
    // could arrive after the first read below and empty the cache it checks.
    const owner = await registerTenant(one, { plan: 'free' });
    await waitUntilLive(one.deps.identity.credentials.invalidations);
    const role = async () => ((await (await one.request('/api/me', { headers: owner.headers })).json()) as { role: string }).role;
    expect(await role()).toBe('owner');
    await env.db('users').where({ id: owner.userId }).update({ role: 'viewer' });
    // Cached: still the owner until the change is published (or the TTL runs out).
    expect(await role()).toBe('owner');
    await two.deps.identity.credentials.invalidations.invalidate({ userId: owner.userId });
    await expect.poll(role, { timeout: 2_000, interval: 20 }).toBe('viewer');
  });

  it('stops serving cached credentials while its subscription is down, and caches again once it is back', async () => {
    const tenant = await createTestTenant(env.db);
    const { invalidations } = one.deps.identity.credentials;
    await waitUntilLive(invalidations);
    expect(await status(one, tenant.headers)).toBe(200);
    // Cut the subscriber's connection (and keep it cut until connected again below).
    const subscriber = invalidations.subscription;
    if (!subscriber) throw new Error('no subscriber');
    subscriber.disconnect(false);
    await expect.poll(() => invalidations.live, { timeout: 5_000, interval: 5 }).toBe(false);
    await env.db('tenants').where({ id: tenant.tenantId }).update({ status: 'suspended' });
    // While down, no entry is served: a change made meanwhile (whose invalidation would be missed) shows at once.
    expect(await status(one, tenant.headers)).toBe(403);
    await subscriber.connect();
    await waitUntilLive(invalidations);
    await env.db('tenants').where({ id: tenant.tenantId }).update({ status: 'active' });
    expect(await status(one, tenant.headers)).toBe(200);
    await env.db('tenants').where({ id: tenant.tenantId }).update({ status: 'suspended' });
    expect(await status(one, tenant.headers)).toBe(200);
  });
});

describe('PrincipalCache', () => {
  const tags = { tenantId: 't', userId: 'u', apiKeyId: 'k' };

  it('does not keep a lookup that an invalidation overtook', async () => {
    const cache = new PrincipalCache<string>({ ttlMs: 60_000, maxEntries: 10 });
    cache.enabled = true;
    let release: (value: string) => void = () => undefined;
    const slow = cache.get('key', () => new Promise<string>((resolve) => (release = resolve)), () => tags);
    cache.invalidate({ apiKeyId: 'k' });
    release('before the change');
    expect(await slow).toBe('before the change');
    let loads = 0;
    expect(await cache.get('key', async () => `after ${++loads}`, () => tags)).toBe('after 1');
    expect(await cache.get('key', async () => `after ${++loads}`, () => tags)).toBe('after 1');
  });

  it('shares one lookup between concurrent misses, drops by any tag, and keeps at most maxEntries', async () => {
    const cache = new PrincipalCache<string>({ ttlMs: 60_000, maxEntries: 2 });
    cache.enabled = true;
    let loads = 0;
    const load = async () => `v${++loads}`;
    expect(await Promise.all([cache.get('a', load, () => tags), cache.get('a', load, () => tags)])).toEqual(['v1', 'v1']);
    await cache.get('b', load, () => ({ tenantId: 'other', userId: null, apiKeyId: null }));
    await cache.get('c', load, () => ({ tenantId: 'other', userId: null, apiKeyId: null }));
    expect(cache.size).toBe(2);
    cache.invalidate({ tenantId: 'other' });
    expect(cache.size).toBe(0);
    // Disabled (no subscription): every get loads, nothing is stored.
    cache.enabled = false;
    await cache.get('d', load, () => tags);
    expect(cache.size).toBe(0);
  });
});
