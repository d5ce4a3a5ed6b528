/**
 * Polling one job (`GET /api/jobs/:id`) through two API processes with caches of their own: reads
 * answered from memory while the job's state version stands, never another tenant's job, never a
 * state older than one a client has seen through either process (after a cancel, a worker's
 * transition, or a change only PostgreSQL knows of), ETags and 304s, long polls that return on a
 * change and at their deadline, and the per-tenant cap on held polls across both processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobStateCache } from '../../api/jobs/job-state-cache.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { type CatalyticProcess, spawnCatalytic } from '../support/processes.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { json, type JobJson, startWorker, stopWorker, submit } from './support.ts';

const env = useTestEnvironment();
// In this process, so its cache can be inspected; at most 2 held polls per tenant.
const apiA = useTestApi(env, { JOB_WAIT_MAX_PER_TENANT: '2' });
let apiB: { url: string; process: CatalyticProcess };

const tinyJob = { type: 'shortest_path', lattice: { shape: [3, 3] }, params: { start: [0, 0], end: [2, 2] } };

beforeAll(async () => {
  const child = spawnCatalytic(['api'], { ...env.env, LOG_LEVEL: 'info', JOB_WAIT_MAX_PER_TENANT: '2' });
  const line = await child.waitForLine(/is running at/, 30_000);
  apiB = { url: /is running at (http:\/\/\S+)/.exec(line)?.[1] as string, process: child };
}, 40_000);

afterAll(async () => {
  if (!apiB) return;
  apiB.process.child.kill('SIGTERM');
  await apiB.process.exited;
});

function get(base: string, tenant: TestTenant, jobId: string, headers: Record<string, string> = {}, query = ''): Promise<Response> {
  return fetch(`${base}/api/jobs/${jobId}${query}`, { headers: { ...tenant.headers, ...headers } });
}

async function statusVia(base: string, tenant: TestTenant, jobId: string): Promise<string> {
  const response = await get(base, tenant, jobId);
  expect(response.status).toBe(200);
  return (await json<JobJson>(response)).status;
}

async function cancel(base: string, tenant: TestTenant, jobId: string): Promise<void> {
  const response = await fetch(`${base}/api/jobs/${jobId}`, { method: 'DELETE', headers: tenant.headers });
  expect(response.status).toBe(200);
}

describe('polling a job', () => {
  it('reads of a job whose state stands touch no database; the answer is what PostgreSQL holds', async () => {
    const tenant = await createTestTenant(env.db);
    const job = await submit(apiA, tenant.headers, tinyJob);
    const first = await get(apiA.url, tenant, job.id);
    const body = await json<JobJson>(first);
    expect(body).toMatchObject({ id: job.id, status: 'queued', links: { self: `/api/jobs/${job.id}` } });
    const before = apiA.deps.jobs.states.stats();
    for (let i = 0; i < 20; i++) {
      const again = await get(apiA.url, tenant, job.id);
      expect(again.status).toBe(200);
      expect(again.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await json<JobJson>(again)).toEqual(body);
    }
    const after = apiA.deps.jobs.states.stats();
    expect(after.misses - before.misses).toBe(0);
    expect(after.hits - before.hits).toBe(20);
    expect(after.entries).toBeGreaterThan(0);
  });

  it("another tenant's job is a 404 through the cache, with or without its ETag", async () => {
    const owner = await createTestTenant(env.db);
    const other = await createTestTenant(env.db);
    const job = await submit(apiA, owner.headers, tinyJob);
    for (const base of [apiA.url, apiB.url]) {
      const mine = await get(base, owner, job.id);
      expect(mine.status).toBe(200);
      const etag = mine.headers.get('etag') as string;
      expect(etag).toMatch(/^"[\w-]+"$/);
      // The owner's read is cached in both processes now.
      expect((await get(base, other, job.id)).status).toBe(404);
      expect((await get(base, other, job.id, { 'if-none-match': etag })).status).toBe(404);
      expect((await get(base, other, job.id, { prefer: 'wait=1' })).status).toBe(404);
      expect((await fetch(`${base}/api/jobs/${job.id}/result`, { headers: other.headers })).status).toBe(404);
    }
  });

  it('a cancel through either process is seen at once through the other, whose cache held the job queued', async () => {
    const tenant = await createTestTenant(env.db);
    for (const [writer, reader] of [
      [apiA.url, apiB.url],
      [apiB.url, apiA.url],
    ] as const) {
      const job = await submit(apiA, tenant.headers, tinyJob);
      for (let i = 0; i < 3; i++) {
        expect(await statusVia(writer, tenant, job.id)).toBe('queued');
        expect(await statusVia(reader, tenant, job.id)).toBe('queued');
      }
      await cancel(writer, tenant, job.id);
      expect(await statusVia(reader, tenant, job.id)).toBe('cancelled');
      expect(await statusVia(writer, tenant, job.id)).toBe('cancelled');
    }
  });

  it('a newer state one process read from PostgreSQL is never followed by an older one from the other', async () => {
    const tenant = await createTestTenant(env.db);
    const job = await submit(apiA, tenant.headers, tinyJob);
    expect(await statusVia(apiA.url, tenant, job.id)).toBe('queued');
    // A change Redis never heard of (as when a writer's version write is lost): B has no entry,
    // reads the row, and raises the version before answering; A's cached queued state is then stale.
    await env.db('jobs').where({ id: job.id }).update({ status: 'failed', finished_at: env.db.fn.now(), error: { code: 'internal', message: 'x' } });
    expect(await statusVia(apiB.url, tenant, job.id)).toBe('failed');
    expect(await statusVia(apiA.url, tenant, job.id)).toBe('failed');
  });

  it('If-None-Match with the current ETag is a 304 without a body; a change gives a new ETag', async () => {
    const tenant = await createTestTenant(env.db);
    const job = await submit(apiA, tenant.headers, tinyJob);
    const first = await get(apiB.url, tenant, job.id);
    const etag = first.headers.get('etag') as string;
    for (const base of [apiA.url, apiB.url]) {
      for (const header of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
        const unchanged = await get(base, tenant, job.id, { 'if-none-match': header });
        expect(unchanged.status).toBe(304);
        expect(unchanged.headers.get('etag')).toBe(etag);
        expect(await unchanged.text()).toBe('');
      }
      expect((await get(base, tenant, job.id, { 'if-none-match': '"something-else"' })).status).toBe(200);
    }
    await cancel(apiA.url, tenant, job.id);
    for (const base of [apiA.url, apiB.url]) {
      const changed = await get(base, tenant, job.id, { 'if-none-match': etag });
      expect(changed.status).toBe(200);
      expect(changed.headers.get('etag')).not.toBe(etag);
      expect((await json<JobJson>(changed)).status).toBe('cancelled');
    }
  });

  it('a long poll returns when the job changes (a cancel through the other process) and at its deadline', async () => {
    const tenant = await createTestTenant(env.db);
    const job = await submit(apiA, tenant.headers, tinyJob);
    const etag = (await get(apiA.url, tenant, job.id)).headers.get('etag') as string;

    const startedTimeout = performance.now();
    const timedOut = await get(apiA.url, tenant, job.id, { 'if-none-match': etag }, '?wait=1');
    const heldMs = performance.now() - startedTimeout;
    expect(timedOut.status).toBe(304);
    expect(heldMs).toBeGreaterThanOrEqual(950);
    expect(heldMs).toBeLessThan(10_000);

    const started = performance.now();
    const held = get(apiA.url, tenant, job.id, { 'if-none-match': etag, prefer: 'wait=20' });
    // The cancel comes once the poll is surely held.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await cancel(apiB.url, tenant, job.id);
    const answer = await held;
    expect(answer.status).toBe(200);
    expect(answer.headers.get('preference-applied')).toBe('wait=20');
    expect((await json<JobJson>(answer)).status).toBe('cancelled');
    expect(performance.now() - started).toBeLessThan(15_000);

    // With the old ETag the job has changed already: answered at once, the wait not applied.
    const late = await get(apiB.url, tenant, job.id, { 'if-none-match': etag, prefer: 'wait=20' });
    expect(late.status).toBe(200);
    expect(late.headers.get('preference-applied')).toBeNull();

    // A final job never changes: the wait is not applied.
    const final = await get(apiA.url, tenant, job.id, { prefer: 'wait=20' });
    expect(final.status).toBe(200);
    expect(final.headers.get('preference-applied')).toBeNull();
  });

  it("a long poll ends on a worker's transitions; both processes then answer the final state", { timeout: 90_000 }, async () => {
    const tenant = await createTestTenant(env.db);
    const job = await submit(apiA, tenant.headers, tinyJob);
    expect(await statusVia(apiA.url, tenant, job.id)).toBe('queued');
    expect(await statusVia(apiB.url, tenant, job.id)).toBe('queued');
    const worker = await startWorker(env);
    try {
      let status = 'queued';
      let etag = '';
      for (let polls = 0; polls < 10 && status !== 'completed'; polls++) {
        const answer = await get(apiA.url, tenant, job.id, etag ? { 'if-none-match': etag, prefer: 'wait=20' } : { prefer: 'wait=20' });
        if (answer.status === 304) continue;
        expect(answer.status).toBe(200);
        etag = answer.headers.get('etag') as string;
        status = (await json<JobJson>(answer)).status;
      }
      expect(status).toBe('completed');
      expect(await statusVia(apiB.url, tenant, job.id)).toBe('completed');
      const result = await fetch(`${apiB.url}/api/jobs/${job.id}/result`, { headers: tenant.headers });
      expect(result.status).toBe(200);
      expect(await result.json()).toMatchObject({ reachable: true, length: 4 });
    } finally {
      await stopWorker(worker);
    }
  });

  it('a tenant holds at most its cap of polls across API processes; past it polls are answered at once, and other tenants still wait', async () => {
    const greedy = await createTestTenant(env.db);
    const other = await createTestTenant(env.db);
    const jobs = await Promise.all([0, 1, 2].map(() => submit(apiA, greedy.headers, tinyJob)));
    const otherJob = await submit(apiA, other.headers, tinyJob);
    const held = jobs.slice(0, 2).map((job) => get(apiA.url, greedy, job.id, { prefer: 'wait=20' }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(apiA.deps.jobs.heldPolls.held(greedy.tenantId)).toBe(2);

    const third = jobs[2] as JobJson;
    const started = performance.now();
    const refused = await get(apiA.url, greedy, third.id, { prefer: 'wait=20' });
    expect(refused.status).toBe(200);
    expect(refused.headers.get('preference-applied')).toBeNull();
    expect(performance.now() - started).toBeLessThan(5_000);
    // The cap is the tenant's in all processes: the other API holds none of the greedy tenant's polls either.
    const elsewhere = await get(apiB.url, greedy, third.id, { prefer: 'wait=20' });
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.headers.get('preference-applied')).toBeNull();

    const otherHeld = get(apiA.url, other, otherJob.id, { prefer: 'wait=20' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(apiA.deps.jobs.heldPolls.held(other.tenantId)).toBe(1);

    await Promise.all([...jobs.slice(0, 2).map((job) => cancel(apiB.url, greedy, job.id)), cancel(apiB.url, other, otherJob.id)]);
    for (const answer of await Promise.all([...held, otherHeld])) {
      expect(answer.status).toBe(200);
      expect(answer.headers.get('preference-applied')).toBe('wait=20');
      expect((await json<JobJson>(answer)).status).toBe('cancelled');
    }
    expect(apiA.deps.jobs.heldPolls.held(greedy.tenantId)).toBe(0);
  });

  it('?wait beyond the longest allowed is refused; Prefer: wait beyond it is cut', async () => {
    const tenant = await createTestTenant(env.db);
    const job = await submit(apiA, tenant.headers, tinyJob);
    expect((await get(apiA.url, tenant, job.id, {}, '?wait=31')).status).toBe(400);
    const etag = (await get(apiA.url, tenant, job.id)).headers.get('etag') as string;
    const held = get(apiA.url, tenant, job.id, { 'if-none-match': etag, prefer: 'respond-async, wait=3600' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await cancel(apiA.url, tenant, job.id);
    const answer = await held;
    expect(answer.status).toBe(200);
    expect(answer.headers.get('preference-applied')).toBe('wait=30');
  });

  it("is bounded per tenant: one tenant's many jobs evict its own entries, not another tenant's", async () => {
    const [busy, quiet] = await Promise.all([createTestTenant(env.db), createTestTenant(env.db)]);
    const busyJobs = await Promise.all([0, 1, 2, 3].map(() => submit(apiA, busy.headers, tinyJob)));
    const quietJob = await submit(apiA, quiet.headers, tinyJob);
    const { db, redis } = apiA.deps.runtime;
    const probe = new JobStateCache(db, redis, env.redisPrefix);
    const one = await probe.read(quiet.tenantId, quietJob.id);
    const entryBytes = 4 * (one?.json.length ?? 0);
    expect(entryBytes).toBeGreaterThan(0);
    // Room for two entries of a tenant, and for plenty in all.
    const cache = new JobStateCache(db, redis, env.redisPrefix, undefined, { maxTenantBytes: 2 * entryBytes + 100, maxBytes: 100 * entryBytes });
    expect((await cache.read(quiet.tenantId, quietJob.id))?.jobId).toBe(quietJob.id);
    for (const job of busyJobs) expect((await cache.read(busy.tenantId, job.id))?.body.status).toBe('queued');
    expect(cache.stats().entries).toBe(3);
    const missesBefore = cache.stats().misses;
    // The quiet tenant's entry survived; the busy tenant kept its two newest.
    await cache.read(quiet.tenantId, quietJob.id);
    await cache.read(busy.tenantId, (busyJobs[3] as JobJson).id);
    await cache.read(busy.tenantId, (busyJobs[2] as JobJson).id);
    expect(cache.stats().misses).toBe(missesBefore);
    await cache.read(busy.tenantId, (busyJobs[0] as JobJson).id);
    expect(cache.stats().misses).toBe(missesBefore + 1);
    // A changed job is read again and kept again, also when it was its tenant's only entry.
    await cancel(apiA.url, quiet, quietJob.id);
    expect((await cache.read(quiet.tenantId, quietJob.id))?.body.status).toBe('cancelled');
    const settled = cache.stats().misses;
    expect((await cache.read(quiet.tenantId, quietJob.id))?.body.status).toBe('cancelled');
    expect(cache.stats().misses).toBe(settled);
  });
});
