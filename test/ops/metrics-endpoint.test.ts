/**
 * /metrics speaks the Prometheus text format; it carries the series of docs/architecture.md › Observability with bounded
 * labels, and they move: requests by route pattern, and queue depth by plan and state as a job is
 * queued, taken and finished. METRICS_TOKEN, when set, guards it.
 */
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTenantQueue, type TenantQueue } from '../../shared/queues/tenant-queues.ts';
import { closeRedis, createRedis } from '../../shared/redis.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { type Exposition, parsePrometheusText, sampleValue } from './prometheus-text.ts';

/** Every family the design names, with its Prometheus type. */
const FAMILIES: Record<string, string> = {
  catalytic_http_request_duration_seconds: 'histogram',
  catalytic_jobs_submitted_total: 'counter',
  catalytic_jobs_finished_total: 'counter',
  catalytic_job_queue_wait_seconds: 'histogram',
  catalytic_job_run_seconds: 'histogram',
  catalytic_jobs_waiting: 'gauge',
  catalytic_jobs_active: 'gauge',
  catalytic_queue_jobs: 'gauge',
  catalytic_kernel_cells_total: 'counter',
  catalytic_webhook_deliveries_total: 'counter',
  catalytic_build_info: 'gauge',
  // Default process metrics.
  catalytic_process_cpu_seconds_total: 'counter',
  catalytic_process_resident_memory_bytes: 'gauge',
  catalytic_nodejs_eventloop_lag_seconds: 'gauge',
};

/** How long a queue-count read is reused (shared/queue-counts.ts), plus a margin. */
const COUNTS_FRESH_MS = 1100;

const env = useTestEnvironment();
const api = useTestApi(env);
const guarded = useTestApi(env, { METRICS_TOKEN: 'scrape-secret-81' });

let tenant: TestTenant;
let queue: TenantQueue;

async function scrape(): Promise<Exposition> {
  const response = await api.request('/metrics');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await response.text());
}

beforeAll(async () => {
  tenant = await createTestTenant(env.db, { plan: 'starter' });
  queue = openTenantQueue(env.redis, env.redisPrefix, tenant.tenantId);
});

afterAll(async () => {
  await queue?.close();
});

describe('/metrics', () => {
  it('is Prometheus text with every family of the design', async () => {
    const exposition = await scrape();
    for (const [family, type] of Object.entries(FAMILIES)) expect(exposition.types.get(family), family).toBe(type);
  });

  it('labels requests by route pattern and status class, never by concrete path', async () => {
    const before = await scrape();
    const count = (e: Exposition, labels: Record<string, string>) =>
      sampleValue(e, 'catalytic_http_request_duration_seconds_count', labels) ?? 0;
    for (let i = 0; i < 3; i++) await (await api.request('/live')).arrayBuffer();
    await (await api.request('/problems/validation_failed')).arrayBuffer();
    await (await api.request('/no/such/path/4711')).arrayBuffer();
    const after = await scrape();

    expect(count(after, { method: 'GET', route: '/live', status: '2xx' }) - count(before, { method: 'GET', route: '/live', status: '2xx' })).toBe(3);
    expect(count(after, { route: '/problems/:code', status: '2xx' })).toBeGreaterThanOrEqual(1);
    expect(count(after, { route: 'unmatched', status: '4xx' })).toBeGreaterThanOrEqual(1);
    const routes = new Set(after.samples.filter((s) => s.name.startsWith('catalytic_http_')).map((s) => s.labels.route));
    expect([...routes].filter((r) => r?.includes('4711') || r?.includes('validation_failed'))).toEqual([]);
  });

  it('reports queue depth by plan and state as a job is queued, taken and finished', async () => {
    const waiting = (e: Exposition) => sampleValue(e, 'catalytic_jobs_waiting', { plan: 'starter' });
    const active = (e: Exposition) => sampleValue(e, 'catalytic_jobs_active', { plan: 'starter' });
    const state = (e: Exposition, s: string) => sampleValue(e, 'catalytic_queue_jobs', { queue: 'tenant', plan: 'starter', state: s });

    let exposition = await scrape();
    expect(waiting(exposition)).toBe(0);
    // Plans without tenants report zeros rather than nothing; system queues report too.
    expect(sampleValue(exposition, 'catalytic_jobs_waiting', { plan: 'enterprise' })).toBe(0);
    expect(sampleValue(exposition, 'catalytic_queue_jobs', { queue: 'webhooks', plan: 'none', state: 'waiting' })).toBe(0);
    expect(sampleValue(exposition, 'catalytic_queue_jobs', { queue: 'maintenance', plan: 'none', state: 'waiting' })).toBe(0);

    await queue.add('shortest_path', { tenant_id: tenant.tenantId }, { jobId: 'metrics-job-1' });
    await new Promise((r) => setTimeout(r, COUNTS_FRESH_MS));
    exposition = await scrape();
    expect(waiting(exposition)).toBe(1);
    expect(state(exposition, 'waiting')).toBe(1);

    const connection = createRedis(env.env.REDIS_URL as string, { purpose: 'blocking' });
    const worker = new Worker(queue.name, null, { connection, prefix: env.redisPrefix, autorun: false });
    worker.on('error', () => undefined);
    try {
      const job = await worker.getNextJob('token-1');
      expect(job?.id).toBe('metrics-job-1');
      await new Promise((r) => setTimeout(r, COUNTS_FRESH_MS));
      exposition = await scrape();
      expect(waiting(exposition)).toBe(0);
      expect(active(exposition)).toBe(1);

      await job?.moveToCompleted({ ok: true }, 'token-1', false);
      await new Promise((r) => setTimeout(r, COUNTS_FRESH_MS));
      exposition = await scrape();
      expect(active(exposition)).toBe(0);
      expect(state(exposition, 'completed')).toBe(1);
    } finally {
      await worker.close();
      await closeRedis(connection);
    }
    // Bounded labels: no tenant id anywhere in the exposition.
    expect(exposition.samples.some((s) => Object.values(s.labels).some((v) => v.includes(tenant.tenantId)))).toBe(false);
  });

  it('needs the bearer token when METRICS_TOKEN is set', async () => {
    const anonymous = await guarded.request('/metrics');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await guarded.request('/metrics', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const scraped = await guarded.request('/metrics', { headers: { authorization: 'Bearer scrape-secret-81' } });
    expect(scraped.status).toBe(200);
    expect(parsePrometheusText(await scraped.text()).types.get('catalytic_jobs_waiting')).toBe('gauge');
  });
});
