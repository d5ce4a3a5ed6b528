/**
 * Job events reach a receiver that verifies every signature, through the real path: the event
 * row written with the job's final state, the first attempt from the worker role's delivery
 * queue, retries from the scheduler's webhook-retry job, on a fast schedule.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { SchedulerService } from '../../scheduler/scheduler-service.ts';
import type { Runtime } from '../../shared/runtime.ts';
import { WEBHOOK_DELIVERY_QUEUE } from '../../shared/webhooks/delivery-queue.ts';
import { createWebhookDispatcher, type WebhookDispatcher } from '../../shared/webhooks/dispatcher.ts';
import { WebhookSenderService } from '../../worker/webhook-sender.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { finishJobWithEvent, insertJob } from './fixtures.ts';
import { eventually, TestReceiver } from './receiver.ts';

// Three retries 150 ms apart (±20%): four attempts in all.
const env = useTestEnvironment({ WEBHOOK_RETRY_SCHEDULE_MS: '150,150,150', WEBHOOK_RETRY_POLL_MS: '100' });
const api = useTestApi(env);

let runtime: Runtime;
let sender: WebhookSenderService;
let scheduler: SchedulerService;
let dispatcher: WebhookDispatcher;
let tenant: TestTenant;
const receivers: TestReceiver[] = [];

beforeAll(async () => {
  runtime = env.runtime();
  sender = new WebhookSenderService(runtime);
  scheduler = new SchedulerService(runtime);
  dispatcher = createWebhookDispatcher(runtime);
  await sender.start();
  await scheduler.start();
});

// Each test has its own tenant, so events reach only that test's endpoints.
beforeEach(async () => {
  tenant = await createTestTenant(env.db);
});

afterAll(async () => {
  await dispatcher?.close();
  await scheduler?.close();
  await sender?.close();
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver(options: ConstructorParameters<typeof TestReceiver>[0]): Promise<TestReceiver> {
  const r = await new TestReceiver(options).start();
  receivers.push(r);
  return r;
}

async function createEndpoint(url: string, events = ['job.completed', 'job.failed']): Promise<{ id: string; secret: string }> {
  const res = await api.request('/api/webhooks', { body: { url, events }, headers: tenant.headers });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; secret: string };
}

interface DeliveryView {
  id: string;
  event_id: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_latency_ms: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
}

async function deliveries(endpointId: string): Promise<DeliveryView[]> {
  const res = await api.request(`/api/webhooks/${endpointId}/deliveries`, { headers: tenant.headers });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: DeliveryView[] }).data;
}

async function settled(endpointId: string, deliveryId: string): Promise<DeliveryView> {
  return eventually(async () => {
    const found = (await deliveries(endpointId)).find((d) => d.id === deliveryId);
    return found && found.status !== 'pending' ? found : undefined;
  });
}

describe('webhook deliveries', () => {
  it('retries a failing receiver until it answers 2xx: verified every time, one webhook-id, 4 attempts', async () => {
    let secret = '';
    const r = await receiver({ secrets: () => [secret], respond: (_req, nth) => ({ status: nth < 3 ? 500 : 200 }) });
    const endpoint = await createEndpoint(r.url);
    secret = endpoint.secret;

    const jobId = await insertJob(env.db, tenant.tenantId, { status: 'running' });
    const [deliveryId] = await finishJobWithEvent(env.db, tenant.tenantId, jobId, 'completed');
    expect(deliveryId).toBeDefined();
    await dispatcher.dispatch([deliveryId as string]);

    const delivery = await settled(endpoint.id, deliveryId as string);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 4, last_status_code: 200, next_attempt_at: null });
    expect(delivery.last_latency_ms).toBeGreaterThanOrEqual(0);

    expect(r.requests).toHaveLength(4);
    expect(new Set(r.requests.map((q) => q.headers['webhook-id']))).toEqual(new Set([delivery.event_id]));
    for (const request of r.requests) expect(request.verifiedWith).toEqual([0]);
    const event = JSON.parse(r.requests[3]?.body ?? '{}') as { id: string; type: string; data: { job: { id: string; status: string } } };
    expect(event).toMatchObject({ id: delivery.event_id, type: 'job.completed', data: { job: { id: jobId, status: 'completed' } } });
    // Retries wait at least the schedule's delay less its jitter.
    const gaps = r.requests.slice(1).map((q, i) => q.at - (r.requests[i] as { at: number }).at);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(115);

    // The first attempt came from the worker's delivery queue; the retries from the scheduler.
    const queue = new Queue(WEBHOOK_DELIVERY_QUEUE, { connection: env.redis, prefix: env.redisPrefix });
    try {
      expect(await (await queue.getJob(deliveryId as string))?.getState()).toBe('completed');
    } finally {
      await queue.close();
    }
    const endpointNow = await env.db('webhooks').where({ id: endpoint.id }).first('failing_since', 'enabled');
    expect(endpointNow).toEqual({ failing_since: null, enabled: true });
  });

  it('fails a delivery whose receiver is down for the whole schedule; redeliver then succeeds with the same webhook-id', async () => {
    // A port with nothing listening: every attempt is refused.
    const gone = await receiver({});
    const port = gone.port;
    await gone.close();
    const endpoint = await createEndpoint(`http://127.0.0.1:${port}/hook`, ['job.failed']);

    const jobId = await insertJob(env.db, tenant.tenantId, { status: 'running' });
    const [deliveryId] = await finishJobWithEvent(env.db, tenant.tenantId, jobId, 'failed');
    await dispatcher.dispatch([deliveryId as string]);
    const failed = await settled(endpoint.id, deliveryId as string);
    expect(failed).toMatchObject({ status: 'failed', attempts: 4, last_status_code: null, next_attempt_at: null });
    expect(failed.last_error).toMatch(/ECONNREFUSED/);
    expect((await env.db('webhooks').where({ id: endpoint.id }).first('failing_since')).failing_since).toBeInstanceOf(Date);

    // The receiver comes back; the owner asks for the event again.
    let secret = '';
    const back = await new TestReceiver({ secrets: () => [secret] }).start(port);
    receivers.push(back);
    secret = endpoint.secret;
    const res = await api.request(`/api/webhooks/${endpoint.id}/deliveries/${deliveryId}/redeliver`, {
      method: 'POST',
      headers: tenant.headers,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: deliveryId, status: 'succeeded', attempts: 5, last_status_code: 200, last_error: null });
    expect(back.requests).toHaveLength(1);
    expect(back.requests[0]?.headers['webhook-id']).toBe(failed.event_id);
    expect(back.requests[0]?.verifiedWith).toEqual([0]);
    expect(JSON.parse(back.requests[0]?.body ?? '{}')).toMatchObject({ type: 'job.failed', data: { job: { id: jobId } } });
    expect((await env.db('webhooks').where({ id: endpoint.id }).first('failing_since')).failing_since).toBeNull();
  });

  it('disables an endpoint that answers 410 Gone, and sends it nothing more', async () => {
    const r = await receiver({ respond: () => ({ status: 410 }) });
    const endpoint = await createEndpoint(r.url);
    const first = await insertJob(env.db, tenant.tenantId, { status: 'running' });
    const [deliveryId] = await finishJobWithEvent(env.db, tenant.tenantId, first, 'completed');
    await dispatcher.dispatch([deliveryId as string]);
    expect(await settled(endpoint.id, deliveryId as string)).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 410 });

    const view = (await (await api.request(`/api/webhooks/${endpoint.id}`, { headers: tenant.headers })).json()) as {
      enabled: boolean;
      disabled_reason: string;
    };
    expect(view.enabled).toBe(false);
    expect(view.disabled_reason).toMatch(/410/);
    // A disabled endpoint gets no deliveries for new events.
    const second = await insertJob(env.db, tenant.tenantId, { status: 'running' });
    expect(await finishJobWithEvent(env.db, tenant.tenantId, second, 'completed')).toEqual([]);
    expect(r.requests).toHaveLength(1);
  });

  it('creates one delivery per subscribed endpoint and none for endpoints not subscribed to the event', async () => {
    const a = await receiver({});
    const b = await receiver({});
    const c = await receiver({});
    const other = await createTestTenant(env.db);
    await createEndpoint(a.url, ['job.cancelled']);
    await createEndpoint(b.url, ['job.cancelled', 'job.completed']);
    await createEndpoint(c.url, ['job.completed']);
    const res = await api.request('/api/webhooks', { body: { url: c.url, events: ['job.cancelled'] }, headers: other.headers });
    expect(res.status).toBe(201);

    const jobId = await insertJob(env.db, tenant.tenantId, { status: 'queued' });
    const ids = await finishJobWithEvent(env.db, tenant.tenantId, jobId, 'cancelled');
    expect(ids).toHaveLength(2);
    await dispatcher.dispatch(ids);
    await a.waitFor(() => a.requests.length === 1);
    await b.waitFor(() => b.requests.length === 1);
    expect(a.requests[0]?.headers['webhook-id']).toBe(b.requests[0]?.headers['webhook-id']);
    expect(c.requests).toHaveLength(0);
  });
});
