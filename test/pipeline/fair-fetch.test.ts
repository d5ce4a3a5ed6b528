/**
 * Fairness across tenants (docs/architecture.md › Fair fetching) with a real worker process of concurrency 2: a tenant's
 * flood does not delay another tenant's jobs by more than about a round, and busy tenants share
 * the worker in proportion to their plans' weights.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestApi, useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { type JobJson, liftRateLimits, startWorker, stopWorker, submit, submitBacklog, waitForJob } from './support.ts';

const env = useTestEnvironment();
const api = useTestApi(env, { RATE_LIMIT_CREDENTIAL_PER_SECOND: '1000000' });

beforeAll(async () => {
  // Before the first request: floods of HTTP submissions must not hit the plans' request limits.
  await liftRateLimits(env.db);
});

/** A job of a millisecond or so. */
const tiny = (i: number) => ({ type: 'shortest_path' as const, lattice: { shape: [4, 4] }, params: { start: [0, 0], end: [3, i % 4] } });

/** A backlog of tiny jobs, arranged through the API's submit code (HTTP would only make it slower). */
function flood(api: TestApi, tenant: TestTenant, plan: string, count: number): Promise<string[]> {
  return submitBacklog(api, tenant, plan, Array.from({ length: count }, (_, i) => tiny(i)));
}

interface Started {
  id: string;
  tenant_id: string;
  created_at: Date;
  started_at: Date;
  /** The entry tiny jobs written together share (null: the job's own). */
  queue_entry: string | null;
}

async function startedJobs(): Promise<Started[]> {
  return env.db('jobs').whereNotNull('started_at').orderBy([{ column: 'started_at' }, { column: 'id' }]).select('id', 'tenant_id', 'created_at', 'started_at', 'queue_entry');
}

async function waitForStarts(tenantId: string, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [row] = await env.db('jobs').where({ tenant_id: tenantId }).whereNotNull('started_at').count<{ count: string }[]>('* as count');
    if (Number(row?.count) >= count) return;
    if (Date.now() > deadline) throw new Error(`fewer than ${count} jobs started`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('fair fetching', () => {
  it("a tenant's flood of 2,000 jobs delays another tenant's jobs by at most about a round", { timeout: 120_000 }, async () => {
    const [flooder, other] = await Promise.all([createTestTenant(env.db), createTestTenant(env.db)]);
    await flood(api, flooder, 'professional', 2000);
    const worker = await startWorker(env, { WORKER_CONCURRENCY: '2' });
    await waitForStarts(flooder.tenantId, 50);

    // Each job counts as submitted when the API answered 202: it is in its queue by then.
    const mine: Array<JobJson & { acceptedAt: Date }> = [];
    for (let i = 0; i < 20; i++) mine.push({ ...(await submit(api, other.headers, tiny(i))), acceptedAt: new Date() });
    await Promise.all(mine.map((job) => waitForJob(api, other.headers, job.id)));
    await stopWorker(worker);

    const started = await startedJobs();
    const flooderStarts = started.filter((j) => j.tenant_id === flooder.tenantId);
    const backlogLeft = 2000 - flooderStarts.length;
    expect(backlogLeft).toBeGreaterThan(0);
    const tenants = 2;
    // How far the flooder's backlog advanced while each job could have started: from its 202, or
    // from the start of the job before it if that came later (a tenant's own jobs run in order,
    // so waiting behind its own earlier jobs is not the flooder's doing). Counted in queue entries,
    // the round robin's unit: tiny jobs written together share one (a group of at most
    // BATCH_CHUNK_MAX_JOBS jobs, microseconds each), as a batch's small jobs share a chunk.
    let previousStart = new Date(0);
    const overtaken = mine.map((job) => {
      const row = started.find((s) => s.id === job.id) as Started;
      const from = job.acceptedAt > previousStart ? job.acceptedAt : previousStart;
      previousStart = row.started_at;
      return flooderStarts.filter((s) => s.started_at > from && s.started_at < row.started_at);
    });
    const entries = overtaken.map((jobs) => new Set(jobs.map((s) => s.queue_entry ?? s.id)).size);
    const advanced = `the flooder's backlog advanced by ${entries.join(', ')} entries (${overtaken.map((jobs) => jobs.length).join(', ')} jobs)`;
    expect(Math.max(...entries), advanced).toBeLessThanOrEqual(2 * tenants);
  });

  it('busy tenants on plans of weight 1, 2, 4 and 8 get shares of the worker within 10% of their weights', { timeout: 120_000 }, async () => {
    const plans = ['free', 'starter', 'professional', 'enterprise'] as const;
    const weights = [1, 2, 4, 8];
    const backlog = [40, 80, 160, 320];
    const tenants: TestTenant[] = [];
    for (const plan of plans) tenants.push(await createTestTenant(env.db, { plan }));
    await Promise.all(tenants.map((t, i) => flood(api, t, plans[i] as string, backlog[i] as number)));

    const worker = await startWorker(env, { WORKER_CONCURRENCY: '2' });
    await Promise.all(tenants.map((t) => waitForStarts(t.tenantId, 1)));
    // The window: from after a warm-up round until the first tenant runs out of work.
    const roundLength = weights.reduce((a, b) => a + b, 0);
    await waitForStarts(tenants[0]!.tenantId, backlog[0]!);
    await stopWorker(worker);

    const ids = new Set(tenants.map((t) => t.tenantId));
    const started = (await startedJobs()).filter((s) => ids.has(s.tenant_id));
    const firstOut = Math.min(
      ...tenants.map((t, i) => {
        const own = started.filter((s) => s.tenant_id === t.tenantId);
        return own.length >= (backlog[i] as number) ? started.indexOf(own[own.length - 1] as Started) : started.length;
      }),
    );
    const window = started.slice(roundLength, firstOut);
    expect(window.length).toBeGreaterThanOrEqual(20 * roundLength);
    const shares = tenants.map((t) => window.filter((s) => s.tenant_id === t.tenantId).length / window.length);
    weights.forEach((weight, i) => {
      const expected = weight / roundLength;
      expect(Math.abs((shares[i] as number) - expected) / expected, `${plans[i]}: share ${shares[i]} vs ${expected}`).toBeLessThanOrEqual(0.1);
    });
  });
});
