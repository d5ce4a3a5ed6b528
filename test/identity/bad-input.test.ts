import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { IDENTITY_TEST_ENV, type RegisteredTenant, registerTenant, STRONG_PASSWORD } from '../support/identity.ts';

const env = useTestEnvironment(IDENTITY_TEST_ENV);
const api = useTestApi(env);

const SQL = "x' OR '1'='1'; DROP TABLE tenants; --";
const LONG = 'a'.repeat(5000);

let owner: RegisteredTenant;
let viewerToken: string;

beforeAll(async () => {
  owner = await registerTenant(api, { plan: 'starter' });
  const hash = (await env.db('users').where({ id: owner.userId }).first('password_hash')).password_hash as string;
  await env.db('users').insert({
    tenant_id: owner.tenantId,
    email: `viewer-${owner.tenantId}@example.test`,
    first_name: 'Vi',
    last_name: 'Ewer',
    password_hash: hash,
    role: 'viewer',
  });
  const res = await api.request('/auth/login', { body: { email: `viewer-${owner.tenantId}@example.test`, password: owner.password } });
  viewerToken = ((await res.json()) as { access_token: string }).access_token;
});

/** Row counts of every table these routes write. */
async function snapshot(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ['tenants', 'users', 'api_keys', 'refresh_tokens']) {
    const [{ n }] = (await env.db(table).count('* as n')) as [{ n: number }];
    counts[table] = n;
  }
  const [{ n }] = (await env.db('audit_log').whereNot('action', 'auth.sign_in_failed').count('* as n')) as [{ n: number }];
  counts.audit_log = n;
  const plan = await env.db('tenants').where({ id: owner.tenantId }).first('plan_code');
  counts[`plan:${plan.plan_code}`] = 1;
  return counts;
}

async function expectRefused(
  res: Response,
  expected: { status?: number; code?: string; path?: string } = {},
): Promise<Record<string, unknown>> {
  const body = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(body)).toBe(expected.status ?? 400);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(body.code).toBe(expected.code ?? 'validation_failed');
  if (expected.path) expect(JSON.stringify(body.errors)).toContain(expected.path);
  return body;
}

const registration = (overrides: Record<string, unknown>) => ({
  company_name: 'Valid Co',
  email: `valid-${Math.random().toString(36).slice(2)}@example.test`,
  password: STRONG_PASSWORD,
  first_name: 'Val',
  last_name: 'Id',
  plan_code: 'free',
  ...overrides,
});

describe('sign-up refuses bad input and writes nothing', () => {
  const cases: Array<[string, unknown, string]> = [
    ['missing company_name', registration({ company_name: undefined }), 'body.company_name'],
    ['missing email', registration({ email: undefined }), 'body.email'],
    ['missing password', registration({ password: undefined }), 'body.password'],
    ['missing first_name', registration({ first_name: undefined }), 'body.first_name'],
    ['missing last_name', registration({ last_name: undefined }), 'body.last_name'],
    ['missing plan_code', registration({ plan_code: undefined }), 'body.plan_code'],
    ['email of the wrong type', registration({ email: 42 }), 'body.email'],
    ['password of the wrong type', registration({ password: ['x'] }), 'body.password'],
    ['names of the wrong type', registration({ first_name: { $ne: '' } }), 'body.first_name'],
    ['an overlong company name', registration({ company_name: LONG }), 'body.company_name'],
    ['an overlong email', registration({ email: `${LONG}@example.test` }), 'body.email'],
    ['an overlong password', registration({ password: `Aa1!${LONG}` }), 'body.password'],
    ['an overlong last name', registration({ last_name: 'b'.repeat(101) }), 'body.last_name'],
    ['an SQL-looking email', registration({ email: SQL }), 'body.email'],
    ['an SQL-looking plan', registration({ plan_code: `free${SQL}` }), 'body.plan_code'],
    ['an unknown plan', registration({ plan_code: 'platinum' }), 'body.plan_code'],
    ['a blank name', registration({ first_name: '   ' }), 'body.first_name'],
    ['control characters in a name', registration({ last_name: 'Null\u0000Byte' }), 'body.last_name'],
    ['a short password', registration({ password: 'Ab1!xyz' }), 'body.password'],
    ['a common password', registration({ password: 'Password1234' }), 'body.password'],
    ['a password made of the email', registration({ email: 'quokkafarmer@example.test', password: 'quokkafarmer2024' }), 'body.password'],
    ['a body that is an array', [], 'body'],
  ];

  it.each(cases)('refuses %s', async (_name, body, path) => {
    const before = await snapshot();
    await expectRefused(await api.request('/api/tenants/register', { body }), { path });
    expect(await snapshot()).toEqual(before);
  });

  it('stores an SQL-looking company name literally', async () => {
    const name = "Robert'); DROP TABLE tenants; --";
    const res = await api.request('/api/tenants/register', { body: registration({ company_name: name }) });
    expect(res.status).toBe(201);
    const { tenant } = (await res.json()) as { tenant: { id: string } };
    expect((await env.db('tenants').where({ id: tenant.id }).first('name')).name).toBe(name);
  });
});

describe('sign-in, refresh and sign-out refuse bad input', () => {
  it.each([
    ['missing email', { password: 'whatever-password' }],
    ['missing password', { email: owner?.email ?? 'a@example.test' }],
    ['email of the wrong type', { email: ['a'], password: 'whatever-password' }],
    ['an overlong email', { email: LONG, password: 'whatever-password' }],
    ['an overlong password', { email: 'a@example.test', password: LONG }],
  ])('refuses sign-in with %s', async (_name, body) => {
    const before = await snapshot();
    await expectRefused(await api.request('/auth/login', { body }));
    expect(await snapshot()).toEqual(before);
  });

  it('answers an SQL-looking email like any unknown email', async () => {
    await expectRefused(await api.request('/auth/login', { body: { email: SQL, password: 'whatever-password' } }), {
      status: 401,
      code: 'invalid_credentials',
    });
  });

  it.each([
    ['a missing token', {}, 400],
    ['a token of the wrong type', { refresh_token: 12345 }, 400],
    ['an overlong token', { refresh_token: LONG }, 400],
    ['an SQL-looking token', { refresh_token: SQL }, 401],
    ['a made-up token', { refresh_token: `crt_${'A'.repeat(43)}` }, 401],
  ])('refuses refresh with %s', async (_name, body, status) => {
    const before = await snapshot();
    await expectRefused(await api.request('/auth/refresh', { body }), { status, code: status === 400 ? 'validation_failed' : 'invalid_token' });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses sign-out without credentials', async () => {
    await expectRefused(await api.request('/auth/logout', { method: 'POST' }), { status: 401, code: 'unauthorized' });
  });
});

describe('API keys, subscription and usage refuse bad input', () => {
  const keyCases: Array<[string, unknown, string]> = [
    ['a missing name', { scopes: ['jobs:read'] }, 'body.name'],
    ['missing scopes', { name: 'k' }, 'body.scopes'],
    ['no scopes', { name: 'k', scopes: [] }, 'body.scopes'],
    ['an unknown scope', { name: 'k', scopes: ['admin:all'] }, 'body.scopes'],
    ['a repeated scope', { name: 'k', scopes: ['jobs:read', 'jobs:read'] }, 'body.scopes'],
    ['scopes of the wrong type', { name: 'k', scopes: 'jobs:read' }, 'body.scopes'],
    ['an overlong name', { name: LONG, scopes: ['jobs:read'] }, 'body.name'],
    ['an SQL-looking scope', { name: 'k', scopes: [SQL] }, 'body.scopes'],
    ['an expiry in the past', { name: 'k', scopes: ['jobs:read'], expires_at: '2001-01-01T00:00:00Z' }, 'body.expires_at'],
    ['an expiry that is not a date', { name: 'k', scopes: ['jobs:read'], expires_at: SQL }, 'body.expires_at'],
    ['an expiry too far away', { name: 'k', scopes: ['jobs:read'], expires_at: '2999-01-01T00:00:00Z' }, 'body.expires_at'],
  ];

  it.each(keyCases)('refuses a key with %s', async (_name, body, path) => {
    const before = await snapshot();
    await expectRefused(await api.request('/api/api-keys', { body, headers: owner.headers }), { path });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a key granting more than the role may', async () => {
    const before = await snapshot();
    const res = await api.request('/api/api-keys', { body: { name: 'k', scopes: ['jobs:write'] }, headers: { authorization: `Bearer ${viewerToken}` } });
    await expectRefused(res, { status: 403, code: 'insufficient_scope' });
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    ['not a UUID', 'not-a-uuid', 400],
    ['SQL-looking', encodeURIComponent(SQL), 400],
    ['an unknown UUID', '3f1b7c1e-8d4a-4f7e-9a51-2b6c0d9e8f10', 404],
  ])('refuses revoking a key whose id is %s', async (_name, id, status) => {
    const before = await snapshot();
    await expectRefused(await api.request(`/api/api-keys/${id}`, { method: 'DELETE', headers: owner.headers }), {
      status,
      code: status === 404 ? 'not_found' : 'validation_failed',
    });
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    ['a missing plan', {}],
    ['an unknown plan', { plan_code: 'platinum' }],
    ['a plan of the wrong type', { plan_code: 2 }],
    ['an SQL-looking plan', { plan_code: SQL }],
    ['an overlong plan', { plan_code: LONG }],
  ])('refuses a subscription change with %s', async (_name, body) => {
    const before = await snapshot();
    await expectRefused(await api.request('/api/subscription', { body, headers: owner.headers }), { path: 'body.plan_code' });
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    ['a from that is not a date', 'from=yesterday', 'query.from'],
    ['an impossible date', 'from=2025-02-30', 'query.from'],
    ['an SQL-looking date', `to=${encodeURIComponent(SQL)}`, 'query.to'],
    ['from after to', 'from=2025-03-02&to=2025-03-01', 'query.from'],
    ['a range over a year', 'from=2020-01-01&to=2025-01-01', 'query.to'],
  ])('refuses usage with %s', async (_name, query, path) => {
    await expectRefused(await api.request(`/api/usage?${query}`, { headers: owner.headers }), { path });
  });
});
