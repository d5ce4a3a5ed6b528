/**
 * Paid plans need an operator's approval, over real HTTP, PostgreSQL and Redis: a sign-up asking
 * for a paid plan starts on free with a pending request; a free tenant's upgrade is a pending
 * request (202) and its limits do not move; downgrades apply at once. Operators list, approve
 * and reject requests at /admin/api/plan-requests with operator credentials only; approval
 * changes the plan for the tenant's very next request. The tenant sees and may withdraw its
 * request; every step is audited.
 */
import { describe, expect, it } from 'vitest';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { confirmAddress, createApiKey, IDENTITY_TEST_ENV, type RegisteredTenant, registerTenant, STRONG_PASSWORD } from '../support/identity.ts';

const ADMIN = { ADMIN_USER: 'operator', ADMIN_PASSWORD: 'correct horse battery staple', ADMIN_TOKEN: 'op-token-7d2e1a' };
const env = useTestEnvironment(IDENTITY_TEST_ENV);
const api = useTestApi(env, ADMIN);
const noOperators = useTestApi(env);

const operatorBasic = { authorization: `Basic ${Buffer.from(`${ADMIN.ADMIN_USER}:${ADMIN.ADMIN_PASSWORD}`).toString('base64')}` };
const operatorToken = { authorization: `Bearer ${ADMIN.ADMIN_TOKEN}` };

interface PlanRequest {
  id: string;
  from_plan: string;
  to_plan: string;
  status: string;
  reason: string | null;
  decided_at: string | null;
  tenant_id?: string;
  tenant_name?: string;
  decided_by?: string | null;
  requested_by?: string | null;
}
interface Subscription {
  plan_code: string;
  pending_request: PlanRequest | null;
  recent_requests: PlanRequest[];
}

async function body<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

async function subscription(tenant: { headers: Record<string, string> }): Promise<Subscription> {
  const res = await api.request('/api/subscription', { headers: tenant.headers });
  expect(res.status).toBe(200);
  return body<Subscription>(res);
}

async function rateLimit(headers: Record<string, string>): Promise<string | null> {
  const res = await api.request('/api/me', { headers });
  expect(res.status).toBe(200);
  return res.headers.get('ratelimit-limit');
}

async function audit(tenantId: string): Promise<Array<{ action: string; details: Record<string, unknown> }>> {
  return env.db('audit_log').where({ tenant_id: tenantId }).orderBy('created_at').select('action', 'details');
}

async function pendingRows(tenantId: string): Promise<number> {
  const [{ n }] = (await env.db('plan_requests').where({ tenant_id: tenantId, status: 'pending' }).count('* as n')) as [{ n: string }];
  return Number(n);
}

const freeTenant = (): Promise<RegisteredTenant> => registerTenant(api, { plan: 'free', verify: true });

describe('paid plans', () => {
  it('a sign-up asking for a paid plan starts on free; its request is pending once the address is confirmed', async () => {
    const res = await api.request('/api/tenants/register', {
      body: { company_name: 'Greedy Inc', email: 'greedy@example.test', password: STRONG_PASSWORD, first_name: 'G', last_name: 'Reedy', plan_code: 'enterprise' },
    });
    expect(res.status).toBe(201);
    const signup = await body<{ tenant: { id: string; plan_code: string }; user: { id: string }; tokens: { access_token: string }; plan_request: null; requested_plan: string }>(res);
    expect(signup.tenant.plan_code).toBe('free');
    expect(signup).toMatchObject({ plan_request: null, requested_plan: 'enterprise' });
    const headers = { authorization: `Bearer ${signup.tokens.access_token}` };
    expect(await rateLimit(headers)).toBe('60');
    expect(await subscription({ headers })).toMatchObject({ plan_code: 'free', pending_request: null });
    expect(await pendingRows(signup.tenant.id)).toBe(0);

    const request = await confirmAddress(api, signup.tenant.id, signup.user.id);
    expect(await subscription({ headers })).toMatchObject({ plan_code: 'free', pending_request: { id: request?.id, to_plan: 'enterprise' } });
    expect((await audit(signup.tenant.id)).map((a) => a.action)).toEqual(['tenant.registered', 'plan_request.deferred', 'plan_request.created']);
    // A second confirmation (an address change later) opens nothing more.
    expect(await confirmAddress(api, signup.tenant.id, signup.user.id)).toBeUndefined();
  });

  it("a free tenant's upgrade is a pending request (202) and its limits stay; a new request replaces it", async () => {
    const tenant = await freeTenant();
    const res = await api.request('/api/subscription', { body: { plan_code: 'enterprise' }, headers: tenant.headers });
    expect(res.status).toBe(202);
    const first = await body<Subscription>(res);
    expect(first).toMatchObject({ plan_code: 'free', plan: { code: 'free' }, pending_request: { from_plan: 'free', to_plan: 'enterprise', status: 'pending' } });
    expect(await rateLimit(tenant.headers)).toBe('60');
    expect(await env.db('tenants').where({ id: tenant.tenantId }).first('plan_code')).toEqual({ plan_code: 'free' });

    // Asking again for the same plan changes nothing; asking for another replaces the request.
    const again = await body<Subscription>(await api.request('/api/subscription', { body: { plan_code: 'enterprise' }, headers: tenant.headers }));
    expect(again.pending_request?.id).toBe(first.pending_request?.id);
    const second = await body<Subscription>(await api.request('/api/subscription', { body: { plan_code: 'starter' }, headers: tenant.headers }));
    expect(second.pending_request).toMatchObject({ to_plan: 'starter', status: 'pending' });
    expect(second.recent_requests.map((r) => [r.to_plan, r.status])).toEqual([
      ['starter', 'pending'],
      ['enterprise', 'cancelled'],
    ]);
    expect(await pendingRows(tenant.tenantId)).toBe(1);
    const actions = (await audit(tenant.tenantId)).map((a) => a.action);
    expect(actions.filter((a) => a.startsWith('plan_request.'))).toEqual(['plan_request.created', 'plan_request.cancelled', 'plan_request.created']);
    expect(actions).not.toContain('subscription.changed');
  });

  it('downgrades apply at once and cancel a pending upgrade', async () => {
    const tenant = await registerTenant(api, { plan: 'professional' });
    expect(await rateLimit(tenant.headers)).toBe('1200');
    expect((await api.request('/api/subscription', { body: { plan_code: 'enterprise' }, headers: tenant.headers })).status).toBe(202);
    const res = await api.request('/api/subscription', { body: { plan_code: 'starter' }, headers: tenant.headers });
    expect(res.status).toBe(200);
    expect(await body<Subscription>(res)).toMatchObject({ plan_code: 'starter', pending_request: null });
    expect(await rateLimit(tenant.headers)).toBe('300');
    expect(await pendingRows(tenant.tenantId)).toBe(0);
    const changed = (await audit(tenant.tenantId)).filter((a) => a.action === 'subscription.changed').at(-1);
    expect(changed?.details).toMatchObject({ from: 'professional', to: 'starter', via: 'self-serve' });
  });

  it('operators list and approve requests; the plan applies to the very next request', async () => {
    const tenant = await freeTenant();
    const key = await createApiKey(api, tenant.accessToken, { scopes: ['usage:read'] });
    expect(await rateLimit(key.headers)).toBe('60');
    const { pending_request: request } = await body<Subscription>(
      await api.request('/api/subscription', { body: { plan_code: 'professional' }, headers: tenant.headers }),
    );
    if (!request) throw new Error('no pending request');

    // Tenant credentials and no credentials are refused, before the input is even looked at.
    for (const headers of [tenant.headers, key.headers, {}]) {
      expect((await api.request('/admin/api/plan-requests?status=pending', { headers })).status).toBe(401);
      expect((await api.request(`/admin/api/plan-requests/${request.id}/approve`, { body: {}, headers })).status).toBe(401);
      expect((await api.request('/admin/api/plan-requests/not-a-uuid', { headers })).status).toBe(401);
    }
    expect(await pendingRows(tenant.tenantId)).toBe(1);

    const listed = await api.request('/admin/api/plan-requests?status=pending&limit=500', { headers: operatorBasic });
    expect(listed.status).toBe(200);
    const { data } = await body<{ data: PlanRequest[] }>(listed);
    expect(data.find((r) => r.id === request.id)).toMatchObject({ tenant_id: tenant.tenantId, to_plan: 'professional', status: 'pending', requested_by: tenant.userId });
    expect(data.every((r) => r.status === 'pending')).toBe(true);

    const approved = await api.request(`/admin/api/plan-requests/${request.id}/approve`, { body: { reason: 'invoice 42 paid' }, headers: operatorToken });
    expect(approved.status).toBe(200);
    expect(await body<PlanRequest>(approved)).toMatchObject({ status: 'approved', decided_by: 'operator:token', reason: 'invoice 42 paid' });
    // Cached credentials (token and key) were dropped: the next request runs on the new plan.
    expect(await rateLimit(tenant.headers)).toBe('1200');
    expect(await rateLimit(key.headers)).toBe('1200');
    expect(await subscription(tenant)).toMatchObject({ plan_code: 'professional', pending_request: null, recent_requests: [{ id: request.id, status: 'approved' }] });

    const twice = await api.request(`/admin/api/plan-requests/${request.id}/approve`, { body: {}, headers: operatorBasic });
    expect(twice.status).toBe(409);
    expect(await body(twice)).toMatchObject({ code: 'conflict', request_status: 'approved' });
    const entries = await audit(tenant.tenantId);
    expect(entries.find((a) => a.action === 'plan_request.approved')?.details).toMatchObject({ request_id: request.id, operator: 'token', reason: 'invoice 42 paid' });
    expect(entries.find((a) => a.action === 'subscription.changed')?.details).toMatchObject({ from: 'free', to: 'professional', via: 'plan_request' });
  });

  it('a rejection keeps the plan and tells the tenant why', async () => {
    const tenant = await freeTenant();
    const { pending_request: request } = await body<Subscription>(
      await api.request('/api/subscription', { body: { plan_code: 'starter' }, headers: tenant.headers }),
    );
    const rejected = await api.request(`/admin/api/plan-requests/${request?.id}/reject`, { body: { reason: 'card declined' }, headers: operatorBasic });
    expect(rejected.status).toBe(200);
    expect(await body(rejected)).toMatchObject({ status: 'rejected', decided_by: 'operator:operator' });
    expect(await subscription(tenant)).toMatchObject({
      plan_code: 'free',
      pending_request: null,
      recent_requests: [{ id: request?.id, status: 'rejected', reason: 'card declined' }],
    });
    expect(await rateLimit(tenant.headers)).toBe('60');
    expect((await audit(tenant.tenantId)).map((a) => a.action)).toContain('plan_request.rejected');
  });

  it('the tenant withdraws its pending request; a withdrawn request cannot be approved', async () => {
    const tenant = await freeTenant();
    const { pending_request: request } = await body<Subscription>(
      await api.request('/api/subscription', { body: { plan_code: 'enterprise' }, headers: tenant.headers }),
    );
    const withdrawn = await api.request('/api/subscription/request', { method: 'DELETE', headers: tenant.headers });
    expect(withdrawn.status).toBe(200);
    expect(await body(withdrawn)).toMatchObject({ id: request?.id, status: 'cancelled' });
    expect((await api.request('/api/subscription/request', { method: 'DELETE', headers: tenant.headers })).status).toBe(404);
    expect((await api.request(`/admin/api/plan-requests/${request?.id}/approve`, { body: {}, headers: operatorBasic })).status).toBe(409);
    expect(await subscription(tenant)).toMatchObject({ plan_code: 'free', pending_request: null });
    expect((await audit(tenant.tenantId)).map((a) => a.action)).toContain('plan_request.cancelled');
  });

  it('concurrent requests, withdrawals and downgrades of one tenant all answer, leaving at most one pending', async () => {
    const tenant = await registerTenant(api, { plan: 'starter' });
    const calls = Array.from({ length: 24 }, (_, i) =>
      i % 3 === 0
        ? api.request('/api/subscription/request', { method: 'DELETE', headers: tenant.headers })
        : api.request('/api/subscription', { body: { plan_code: ['professional', 'enterprise', 'free', 'starter'][i % 4] }, headers: tenant.headers }),
    );
    const answers = await Promise.all(calls.map(async (call) => ({ status: (await call).status, body: await (await call).text() })));
    // Every answer is a decision (or a 409 "changed meanwhile, retry"), never a server error.
    expect(answers.map((a) => a.status).filter((status) => ![200, 202, 404, 409].includes(status))).toEqual([]);
    // A 202 shows the request it opened, even when a withdrawal raced in right after its commit.
    const accepted = answers.filter((a) => a.status === 202).map((a) => JSON.parse(a.body) as Subscription);
    expect(accepted.filter((s) => s.pending_request?.status !== 'pending')).toEqual([]);
    expect(await pendingRows(tenant.tenantId)).toBeLessThanOrEqual(1);
  });

  it('operator routes do not exist without operator credentials, and refuse bad input with 400', async () => {
    expect((await noOperators.request('/admin/api/plan-requests', { headers: operatorBasic })).status).toBe(404);
    expect((await api.request('/admin/api/plan-requests?status=maybe', { headers: operatorBasic })).status).toBe(400);
    expect((await api.request('/admin/api/plan-requests/not-a-uuid/approve', { body: {}, headers: operatorBasic })).status).toBe(400);
    expect((await api.request('/admin/api/plan-requests/00000000-0000-4000-8000-000000000000/approve', { body: {}, headers: operatorBasic })).status).toBe(404);
  });
});
