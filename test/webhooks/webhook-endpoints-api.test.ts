/**
 * The webhook endpoints API: create (secret shown once), read, change, delete, rotate the secret,
 * send a test event, list and read deliveries; validation, scopes and tenant isolation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { TestReceiver } from './receiver.ts';

const env = useTestEnvironment();
const api = useTestApi(env);

let owner: TestTenant;
let stranger: TestTenant;
let secrets: string[] = [];
let receiver: TestReceiver;

beforeAll(async () => {
  owner = await createTestTenant(env.db);
  stranger = await createTestTenant(env.db);
  receiver = await new TestReceiver({ secrets: () => secrets }).start();
});
afterAll(() => receiver?.close());

interface Endpoint {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  previous_secret_expires_at: string | null;
  secret?: string;
}

async function json<T>(res: Response, status: number): Promise<T> {
  const body = (await res.json()) as T;
  expect(res.status, JSON.stringify(body)).toBe(status);
  return body;
}

async function createEndpoint(tenant = owner, body: Record<string, unknown> = {}): Promise<Endpoint> {
  const res = await api.request('/api/webhooks', {
    body: { url: receiver.url, events: ['job.completed'], ...body },
    headers: tenant.headers,
  });
  return json<Endpoint>(res, 201);
}

describe('webhook endpoints', () => {
  it('creates an endpoint and shows its secret once', async () => {
    const res = await api.request('/api/webhooks', {
      body: { url: receiver.url, events: ['job.completed', 'job.failed'], description: 'billing' },
      headers: owner.headers,
    });
    const created = await json<Endpoint>(res, 201);
    expect(res.headers.get('location')).toBe(`/api/webhooks/${created.id}`);
    expect(created).toMatchObject({ url: receiver.url, events: ['job.completed', 'job.failed'], description: 'billing', enabled: true });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const shown = await json<Endpoint>(await api.request(`/api/webhooks/${created.id}`, { headers: owner.headers }), 200);
    expect(shown).not.toHaveProperty('secret');
    expect(shown).toMatchObject({ id: created.id, disabled_reason: null, previous_secret_expires_at: null });
    const list = await json<{ data: Endpoint[] }>(await api.request('/api/webhooks', { headers: owner.headers }), 200);
    expect(list.data.map((e) => e.id)).toContain(created.id);
    expect(JSON.stringify(list)).not.toContain(created.secret as string);
  });

  it('changes, disables, re-enables and deletes an endpoint', async () => {
    const endpoint = await createEndpoint();
    const path = `/api/webhooks/${endpoint.id}`;
    const patched = await json<Endpoint>(
      await api.request(path, { method: 'PATCH', body: { events: ['job.cancelled'], description: null }, headers: owner.headers }),
      200,
    );
    expect(patched).toMatchObject({ events: ['job.cancelled'], description: null, enabled: true });

    const disabled = await json<Endpoint>(await api.request(path, { method: 'PATCH', body: { enabled: false }, headers: owner.headers }), 200);
    expect(disabled).toMatchObject({ enabled: false, disabled_reason: 'Disabled by a user' });
    await env.db('webhooks').where({ id: endpoint.id }).update({ failing_since: env.db.fn.now() });
    const enabled = await json<Endpoint & { failing_since: string | null }>(
      await api.request(path, { method: 'PATCH', body: { enabled: true }, headers: owner.headers }),
      200,
    );
    expect(enabled).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });

    expect((await api.request(path, { method: 'DELETE', headers: owner.headers })).status).toBe(204);
    expect((await api.request(path, { headers: owner.headers })).status).toBe(404);
  });

  it('validates bodies', async () => {
    const bad = [
      { url: receiver.url, events: [] },
      { url: receiver.url, events: ['job.started'] },
      { url: receiver.url, events: ['job.failed', 'job.failed'] },
      { url: receiver.url, events: ['job.failed'], secret: 'whsec_mine' },
      { url: 'mailto:ops@example.com', events: ['job.failed'] },
      { events: ['job.failed'] },
    ];
    for (const body of bad) {
      const problem = await json<{ code: string; errors: unknown[] }>(
        await api.request('/api/webhooks', { body, headers: owner.headers }),
        400,
      );
      expect(problem.code, JSON.stringify(body)).toBe('validation_failed');
    }
    const endpoint = await createEndpoint();
    await json(await api.request(`/api/webhooks/${endpoint.id}`, { method: 'PATCH', body: {}, headers: owner.headers }), 400);
  });

  it('needs webhooks:write to change and webhooks:read to look', async () => {
    const reader = await createTestTenant(env.db, { scopes: ['webhooks:read'] });
    const nobody = await createTestTenant(env.db, { scopes: ['jobs:read'] });
    const problem = await json<{ code: string }>(
      await api.request('/api/webhooks', { body: { url: receiver.url, events: ['job.failed'] }, headers: reader.headers }),
      403,
    );
    expect(problem.code).toBe('insufficient_scope');
    await json(await api.request('/api/webhooks', { headers: reader.headers }), 200);
    await json(await api.request('/api/webhooks', { headers: nobody.headers }), 403);
    expect((await api.request('/api/webhooks')).status).toBe(401);
  });

  it("answers 404 for another tenant's endpoint and delivery, and changes nothing", async () => {
    const endpoint = await createEndpoint();
    const test = await json<{ id: string }>(await api.request(`/api/webhooks/${endpoint.id}/test`, { method: 'POST', headers: owner.headers }), 200);
    const base = `/api/webhooks/${endpoint.id}`;
    const attempts: Array<[string, string, unknown?]> = [
      ['GET', base],
      ['PATCH', base, { enabled: false }],
      ['DELETE', base],
      ['POST', `${base}/rotate-secret`, {}],
      ['POST', `${base}/test`],
      ['GET', `${base}/deliveries`],
      ['GET', `${base}/deliveries/${test.id}`],
      ['POST', `${base}/deliveries/${test.id}/redeliver`],
    ];
    for (const [method, path, body] of attempts) {
      const res = await api.request(path, { method, body, headers: stranger.headers });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect(await env.db('webhooks').where({ id: endpoint.id }).first('enabled')).toEqual({ enabled: true });
    expect(await env.db('webhook_deliveries').where({ webhook_id: endpoint.id }).count({ n: '*' })).toEqual([{ n: 1 }]);
    const list = await json<{ data: Endpoint[] }>(await api.request('/api/webhooks', { headers: stranger.headers }), 200);
    expect(list.data.map((e) => e.id)).not.toContain(endpoint.id);
  });

  it('sends a signed webhook.test event on request and shows the outcome', async () => {
    const endpoint = await createEndpoint();
    secrets = [endpoint.secret as string];
    const delivery = await json<{ id: string; event_type: string; status: string; attempts: number; last_status_code: number; event_id: string }>(
      await api.request(`/api/webhooks/${endpoint.id}/test`, { method: 'POST', headers: owner.headers }),
      200,
    );
    expect(delivery).toMatchObject({ event_type: 'webhook.test', status: 'succeeded', attempts: 1, last_status_code: 200 });
    const received = receiver.forEvent(delivery.event_id);
    expect(received).toHaveLength(1);
    expect(received[0]?.verifiedWith).toEqual([0]);
    expect(JSON.parse(received[0]?.body ?? '{}')).toMatchObject({ id: delivery.event_id, type: 'webhook.test', data: { webhook: { id: endpoint.id } } });

    const detail = await json<{ payload: { type: string } }>(
      await api.request(`/api/webhooks/${endpoint.id}/deliveries/${delivery.id}`, { headers: owner.headers }),
      200,
    );
    expect(detail.payload).toEqual(JSON.parse(received[0]?.body ?? '{}'));
  });

  it('rotates the secret: both sign during the window, then only the new one', async () => {
    const endpoint = await createEndpoint();
    const oldSecret = endpoint.secret as string;
    const rotated = await json<{ secret: string; previous_secret_expires_at: string }>(
      await api.request(`/api/webhooks/${endpoint.id}/rotate-secret`, { method: 'POST', headers: owner.headers }),
      200,
    );
    expect(rotated.secret).not.toBe(oldSecret);
    const window = new Date(rotated.previous_secret_expires_at).getTime() - Date.now();
    expect(window).toBeGreaterThan(23.9 * 3600_000);
    expect(window).toBeLessThanOrEqual(24 * 3600_000);
    const shown = await json<Endpoint>(await api.request(`/api/webhooks/${endpoint.id}`, { headers: owner.headers }), 200);
    expect(shown.previous_secret_expires_at).toBe(rotated.previous_secret_expires_at);

    secrets = [oldSecret, rotated.secret];
    const during = await json<{ event_id: string }>(await api.request(`/api/webhooks/${endpoint.id}/test`, { method: 'POST', headers: owner.headers }), 200);
    expect(receiver.forEvent(during.event_id)[0]?.verifiedWith).toEqual([0, 1]);

    // Rotating again with no window: only the newest secret signs.
    const again = await json<{ secret: string; previous_secret_expires_at: null }>(
      await api.request(`/api/webhooks/${endpoint.id}/rotate-secret`, { body: { previous_secret_ttl_s: 0 }, headers: owner.headers }),
      200,
    );
    expect(again.previous_secret_expires_at).toBeNull();
    secrets = [oldSecret, rotated.secret, again.secret];
    const after = await json<{ event_id: string }>(await api.request(`/api/webhooks/${endpoint.id}/test`, { method: 'POST', headers: owner.headers }), 200);
    expect(receiver.forEvent(after.event_id)[0]?.verifiedWith).toEqual([2]);
  });

  it('lists deliveries newest first, a page at a time, filtered by status', async () => {
    const endpoint = await createEndpoint();
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const d = await json<{ id: string }>(await api.request(`/api/webhooks/${endpoint.id}/test`, { method: 'POST', headers: owner.headers }), 200);
      sent.push(d.id);
    }
    await env.db('webhook_deliveries').where({ id: sent[0] }).update({ status: 'failed' });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page: { data: Array<{ id: string }>; next_cursor: string | null } = await json(
        await api.request(`/api/webhooks/${endpoint.id}/deliveries${query}`, { headers: owner.headers }),
        200,
      );
      seen.push(...page.data.map((d) => d.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...sent].reverse());

    const failed = await json<{ data: Array<{ id: string; status: string }> }>(
      await api.request(`/api/webhooks/${endpoint.id}/deliveries?status=failed`, { headers: owner.headers }),
      200,
    );
    expect(failed.data.map((d) => d.id)).toEqual([sent[0]]);
    await json(await api.request(`/api/webhooks/${endpoint.id}/deliveries?cursor=bogus`, { headers: owner.headers }), 400);
  });

  it("caps a tenant's endpoints by plan (free: 2), even when the creates race; deleting one makes room", async () => {
    const plans = await json<{ data: Array<{ code: string; max_webhooks: number }> }>(await api.request('/api/plans'), 200);
    expect(Object.fromEntries(plans.data.map((p) => [p.code, p.max_webhooks]))).toEqual({ free: 2, starter: 5, professional: 20, enterprise: -1 });

    const free = await createTestTenant(env.db, { plan: 'free' });
    const attempts = await Promise.all(
      Array.from({ length: 5 }, () => api.request('/api/webhooks', { body: { url: receiver.url, events: ['job.completed'] }, headers: free.headers })),
    );
    const statuses = attempts.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 402, 402, 402]);
    const refusal = (await attempts.find((r) => r.status === 402)?.json()) as Record<string, unknown>;
    expect(refusal).toMatchObject({ code: 'plan_limit_exceeded', limit: 'max_webhooks', limit_value: 2, value: 3, plan: 'free' });
    const [count] = await env.db('webhooks').where({ tenant_id: free.tenantId }).count<Array<{ count: number }>>({ count: '*' });
    expect(Number(count?.count)).toBe(2);

    const mine = await json<{ data: Endpoint[] }>(await api.request('/api/webhooks', { headers: free.headers }), 200);
    expect((await api.request(`/api/webhooks/${mine.data[0]?.id}`, { method: 'DELETE', headers: free.headers })).status).toBe(204);
    await createEndpoint(free);
    await json(await api.request('/api/webhooks', { body: { url: receiver.url, events: ['job.completed'] }, headers: free.headers }), 402);

    // Enterprise has no cap.
    const big = await createTestTenant(env.db, { plan: 'enterprise' });
    for (let i = 0; i < 21; i++) await createEndpoint(big);
  });
});
