/**
 * End to end with the real job pipeline: jobs submitted over HTTP and finished by a real worker
 * process (or cancelled through the API) reach the tenant's receiver as signed events whose job
 * is the one the API's list shows: its summary and links, never the result itself, which the
 * receiver fetches from `links.result`. A cancellation made while no worker runs waits in the delivery queue
 * and is sent when a worker starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { type CatalyticProcess, spawnCatalytic } from '../support/processes.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { TestReceiver } from './receiver.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let tenant: TestTenant;
let receiver: TestReceiver;
let worker: CatalyticProcess | undefined;
let secret = '';

beforeAll(async () => {
  tenant = await createTestTenant(env.db);
  receiver = await new TestReceiver({ secrets: () => [secret] }).start();
  const res = await api.request('/api/webhooks', {
    body: { url: receiver.url, events: ['job.completed', 'job.failed', 'job.cancelled'] },
    headers: tenant.headers,
  });
  expect(res.status).toBe(201);
  secret = ((await res.json()) as { secret: string }).secret;
});

afterAll(async () => {
  if (worker && worker.child.exitCode === null) {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
  await receiver?.close();
});

interface Event {
  type: string;
  data: { job: Record<string, unknown> & { id: string } };
}

const eventFor = (jobId: string, type: string) =>
  receiver.requests
    .map((r) => ({ request: r, event: JSON.parse(r.body) as Event }))
    .find(({ event }) => event.type === type && event.data.job.id === jobId);

async function getJob(id: string): Promise<Record<string, unknown>> {
  const res = await api.request(`/api/jobs/${id}`, { headers: tenant.headers });
  expect(res.status).toBe(200);
  const { links: _links, ...job } = (await res.json()) as Record<string, unknown>;
  return job;
}

/** The job as `GET /api/jobs` lists it. */
async function listedJob(id: string): Promise<Record<string, unknown> | undefined> {
  const res = await api.request('/api/jobs?limit=100', { headers: tenant.headers });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: Array<Record<string, unknown> & { id: string }> }).data.find((j) => j.id === id);
}

describe('job events', () => {
  it('sends job.cancelled and job.completed, signed, with the job the API shows', async () => {
    const submit = async () => {
      const res = await api.request('/api/jobs', { body: { type: 'components', lattice: { shape: [12, 12], obstacles: { density: 0.3, seed: 3 } } }, headers: tenant.headers });
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };
    // No worker yet: the job stays queued, and cancelling it is final at once.
    const cancelled = await submit();
    expect((await api.request(`/api/jobs/${cancelled}`, { method: 'DELETE', headers: tenant.headers })).status).toBeLessThan(300);
    expect((await getJob(cancelled)).status).toBe('cancelled');
    expect(receiver.requests).toHaveLength(0);

    worker = spawnCatalytic(['worker'], { ...env.env, LOG_LEVEL: 'info', KERNEL_THREADS: '1', WORKER_CONCURRENCY: '1', DATABASE_POOL_MAX: '4' });
    await worker.waitForLine(/catalytic worker is running/, 30_000);
    await receiver.waitFor(() => eventFor(cancelled, 'job.cancelled') !== undefined, 20_000);

    const completed = await submit();
    await receiver.waitFor(() => eventFor(completed, 'job.completed') !== undefined, 30_000);

    for (const [jobId, type] of [[cancelled, 'job.cancelled'], [completed, 'job.completed']] as const) {
      const found = eventFor(jobId, type);
      expect(found?.request.verifiedWith).toEqual([0]);
      expect(found?.event.data.job).toEqual(await listedJob(jobId));
    }
    const event = eventFor(completed, 'job.completed')?.event.data.job;
    const { result } = (await getJob(completed)) as { result: Record<string, unknown> };
    // The result's scalar fields, and where the rest is; its arrays stay behind the link.
    expect(event).toMatchObject({ status: 'completed', result_summary: { count: result.count, largest: result.largest }, links: { result: `/api/jobs/${completed}/result` } });
    expect(event).not.toHaveProperty('result');
    expect(Object.keys(result).filter((k) => typeof result[k] === 'object').length).toBeGreaterThan(0);
    expect(receiver.requests).toHaveLength(2);
  });
});
