/**
 * Submit groups (docs/architecture.md › Submit groups), over real HTTP, PostgreSQL, Redis and
 * worker processes: the small keyless jobs one submit write carries share one chunk entry, never
 * across tenants; a job refused by a quota in the middle of a group is left out of its entry; a
 * group of which one job was written is queued by that job's id; a keyed job keeps an entry of
 * its own, so a replay inside a group queues nothing twice; and a worker killed with SIGKILL in
 * the middle of a group's chunk loses no job and completes none twice.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Submission, SubmissionWriter } from '../../api/jobs/submit-writer.ts';
import { SCOPES } from '../../shared/auth/principal.ts';
import { tenantQueueKey } from '../../shared/queues/names.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import { until } from '../harness/until.ts';
import { json, type JobJson, parsedSubmission, startWorker, stopWorker } from './support.ts';

// Short locks, so that a killed worker's chunk is taken again within seconds; chunks as large as a
// test's slow jobs need (the default bound keeps jobs this large out of chunks).
const ENV = { JOB_LOCK_MS: '2000', BATCH_CHUNK_MAX_CELLS: '1000000000000', BATCH_CHUNK_MAX_JOBS: '100' };
const env = useTestEnvironment(ENV);
const api = useTestApi(env);

const pathJob = (i: number, side = 8) => ({ type: 'shortest_path' as const, lattice: { shape: [side, side] }, params: { start: [0, 0], end: [i % side, side - 1] } });

interface Entry {
  id: string;
  jobIds: string[];
  priority: number;
}

/** The tenant's waiting entries, each with the job ids it carries (a chunk: several). */
async function waitingEntries(tenantId: string): Promise<Entry[]> {
  const ids = await env.redis.lrange(tenantQueueKey(env.redisPrefix, tenantId, 'wait'), 0, -1);
  return Promise.all(
    ids.map(async (id) => {
      const [data, priority] = await env.redis.hmget(tenantQueueKey(env.redisPrefix, tenantId, id), 'data', 'priority');
      const parsed = JSON.parse(data ?? '{}') as { job_ids?: string[] };
      return { id, jobIds: parsed.job_ids ?? [id], priority: Number(priority ?? 0) };
    }),
  );
}

function principalOf(tenant: { tenantId: string; userId: string }, planCode: string) {
  return { kind: 'api_key' as const, tenantId: tenant.tenantId, userId: tenant.userId, apiKeyId: null, role: 'member' as const, scopes: new Set(SCOPES), planCode };
}

describe('submit groups', () => {
  it('put the concurrent jobs of each tenant in chunk entries of that tenant alone, readable at once and each run once', { timeout: 120_000 }, async () => {
    const [a, b] = await Promise.all([createTestTenant(env.db, { plan: 'professional' }), createTestTenant(env.db, { plan: 'professional' })]);
    const n = 20;
    const bodies = Array.from({ length: n }, (_, i) => ({ tenant: i % 2 === 0 ? a : b, body: pathJob(i) }));
    const responses = await Promise.all(bodies.map(({ tenant, body }) => api.request('/api/jobs', { body, headers: tenant.headers })));
    expect(responses.map((r) => r.status)).toEqual(bodies.map(() => 202));
    const jobs = await Promise.all(responses.map((r) => json<JobJson>(r)));
    // Read-your-writes: each job is there to read as soon as its 202 came.
    const reads = await Promise.all(jobs.map((job, i) => api.request(`/api/jobs/${job.id}`, { headers: (bodies[i] as { tenant: typeof a }).tenant.headers })));
    expect(reads.map((r) => r.status)).toEqual(jobs.map(() => 200));

    const rows = (await env.db('jobs').whereIn('id', jobs.map((j) => j.id)).select('id', 'tenant_id', 'queue_entry')) as Array<{ id: string; tenant_id: string; queue_entry: string | null }>;
    for (const tenant of [a, b]) {
      const entries = await waitingEntries(tenant.tenantId);
      const mine = rows.filter((r) => r.tenant_id === tenant.tenantId);
      // Every job of the tenant in exactly one of its entries, and fewer entries than jobs.
      expect(entries.flatMap((e) => e.jobIds).sort()).toEqual(mine.map((r) => r.id).sort());
      expect(entries.length).toBeLessThan(mine.length);
      for (const entry of entries) {
        // Single submissions, chunked or not, go ahead of the tenant's batches: no priority.
        expect(entry.priority).toBe(0);
        if (entry.jobIds.length > 1) for (const id of entry.jobIds) expect(mine.find((r) => r.id === id)?.queue_entry).toBe(entry.id);
      }
    }

    const worker = await startWorker(env, ENV);
    try {
      const done = await until(
        'every job completed',
        async () => {
          const now = (await env.db('jobs').whereIn('id', jobs.map((j) => j.id)).select('status', 'attempts')) as Array<{ status: string; attempts: number }>;
          return now.every((r) => r.status === 'completed') ? now : undefined;
        },
        60_000,
      );
      expect(done.every((r) => r.attempts === 1)).toBe(true);
    } finally {
      await stopWorker(worker);
    }
    const results = (await env.db('job_results').whereIn('job_id', jobs.map((j) => j.id)).select('job_id')) as Array<{ job_id: string }>;
    expect(results.map((r) => r.job_id).sort()).toEqual(jobs.map((j) => j.id).sort());
    // Each group's chunk counted one attempt, and belongs to no batch.
    const chunkIds = [...new Set(rows.flatMap((r) => (r.queue_entry ? [r.queue_entry] : [])))];
    const chunks = (await env.db('job_chunks').whereIn('id', chunkIds).select('batch_id', 'attempts')) as Array<{ batch_id: string | null; attempts: number }>;
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.every((c) => c.batch_id === null && c.attempts === 1)).toBe(true);
  });

  it('leave a job refused by a quota in the middle of a group out of its entry, and queue a group of one written job by its id', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'professional' });
    const writer = new SubmissionWriter(api.deps.runtime, api.deps.jobs.producer);
    const professional = await api.deps.identity.plans.get('professional');
    const submission = (body: ReturnType<typeof pathJob>, plan = professional): Submission => {
      const base = { tenantId: tenant.tenantId, plan, input: parsedSubmission(body), idempotencyKey: null, requestHash: null };
      return { ...base, job: writer.prepareInline(base) };
    };
    const units = (s: Submission) => s.job?.computeUnits ?? NaN;
    // The second job costs more compute units than the month has left once the first is counted;
    // the third and fourth fit after it (a job that does not fit is refused, a later one may fit).
    const probe = [submission(pathJob(0)), submission(pathJob(1, 20)), submission(pathJob(2)), submission(pathJob(3))];
    const plan = { ...professional, compute_units_per_month: units(probe[0]!) + units(probe[2]!) + units(probe[3]!) };
    const group = [submission(pathJob(0), plan), submission(pathJob(1, 20), plan), submission(pathJob(2), plan), submission(pathJob(3), plan)];
    const outcomes = await writer.write(group);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true, true]);
    expect((outcomes[1] as { error: { code?: string } }).error.code).toBe('quota_exceeded');
    const written = outcomes.flatMap((o) => (o.ok && o.value ? [o.value] : []));
    await writer.publish(tenant.tenantId, written);
    const entries = await waitingEntries(tenant.tenantId);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.jobIds).toEqual(written.map((row) => row.id));
    expect(written.every((row) => row.queue_entry === entries[0]?.id)).toBe(true);
    expect(await env.db('jobs').where({ id: group[1]?.job?.id })).toHaveLength(0);

    // The month is now full but for a tiny job: of a group of two, one is written and queued alone.
    const left = { ...plan, compute_units_per_month: plan.compute_units_per_month + units(probe[0]!) };
    const pair = [submission(pathJob(4), left), submission(pathJob(5), left)];
    const second = await writer.write(pair);
    expect(second.map((o) => o.ok)).toEqual([true, false]);
    const alone = (second[0] as { value: { id: string; queue_entry: string | null } }).value;
    await writer.publish(tenant.tenantId, [alone as never]);
    const now = await waitingEntries(tenant.tenantId);
    expect(now).toHaveLength(2);
    expect(now.find((e) => e.id === alone.id)?.jobIds).toEqual([alone.id]);
  });

  it('keep a keyed job in an entry of its own, so a replay inside a group queues nothing twice', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'professional' });
    const service = api.deps.jobs;
    const principal = principalOf(tenant, 'professional');
    const keyed = pathJob(7);
    // One turn of the event loop: the keyless ones are one write (one group); the keyed two race for their key.
    const submitted = await Promise.all([
      ...Array.from({ length: 6 }, (_, i) => service.submit(principal, parsedSubmission(pathJob(i)), undefined, '/api/jobs')),
      service.submit(principal, parsedSubmission(keyed), 'key-1', '/api/jobs'),
      service.submit(principal, parsedSubmission(keyed), 'key-1', '/api/jobs'),
    ]);
    const [first, again] = submitted.slice(6);
    expect(again?.row.id).toBe(first?.row.id);
    expect([first?.replayed, again?.replayed].sort()).toEqual([false, true]);
    // A later replay, once every write is done, queues the keyed job again: still by its own id.
    const later = await service.submit(principal, parsedSubmission(keyed), 'key-1', '/api/jobs');
    expect(later).toMatchObject({ replayed: true, row: { id: first?.row.id } });

    const entries = await waitingEntries(tenant.tenantId);
    const ids = entries.flatMap((e) => e.jobIds);
    expect(ids.sort()).toEqual(submitted.slice(0, 7).map((s) => s.row.id).sort());
    expect(entries.find((e) => e.id === first?.row.id)?.jobIds).toEqual([first?.row.id]);
    expect(entries.filter((e) => e.jobIds.length > 1)).toHaveLength(1);
  });

  it('leave a keyed job written in one write with keyless ones out of their chunk, so its replay adds no second entry', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'professional' });
    const service = api.deps.jobs;
    const writer = new SubmissionWriter(api.deps.runtime, service.producer);
    const plan = await api.deps.identity.plans.get('professional');
    const keyed = parsedSubmission(pathJob(7));
    // The hash the service gives a keyed request (jobs-service.ts hashRequest), so the replay matches it.
    const requestHash = createHash('sha256').update(JSON.stringify({ path: '/api/jobs', input: keyed })).digest('hex');
    const submission = (input: ReturnType<typeof parsedSubmission>, idempotencyKey: string | null): Submission => {
      const base = { tenantId: tenant.tenantId, plan, input, idempotencyKey, requestHash: idempotencyKey ? requestHash : null };
      return { ...base, job: writer.prepareInline(base) };
    };
    const group = [submission(parsedSubmission(pathJob(0)), null), submission(keyed, 'key-2'), submission(parsedSubmission(pathJob(1)), null), submission(parsedSubmission(pathJob(2)), null)];
    const outcomes = await writer.write(group);
    const rows = outcomes.map((o) => (o.ok && o.value ? o.value : undefined));
    expect(rows.every((row) => row !== undefined)).toBe(true);
    await writer.publish(tenant.tenantId, rows);
    const keyedRow = rows[1] as { id: string; queue_entry: string | null };
    expect(keyedRow.queue_entry).toBeNull();

    const replay = await service.submit(principalOf(tenant, 'professional'), keyed, 'key-2', '/api/jobs');
    expect(replay).toMatchObject({ replayed: true, row: { id: keyedRow.id } });
    const entries = await waitingEntries(tenant.tenantId);
    expect(entries.flatMap((e) => e.jobIds).sort()).toEqual(rows.map((row) => (row as { id: string }).id).sort());
    expect(entries.find((e) => e.id === keyedRow.id)?.jobIds).toEqual([keyedRow.id]);
  });

  it('lose no job of a group whose worker is killed mid-chunk, and complete none twice', { timeout: 150_000 }, async () => {
    const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
    const principal = principalOf(tenant, 'enterprise');
    // Diffusion of 1.6·10^5 cells and 3,000 steps: a few hundred ms each, so the kill lands mid-chunk.
    const slow = (steps: number) => ({ type: 'diffusion' as const, lattice: { shape: [400, 400] }, params: { alpha: 0.2, steps, sources: [{ cell: [50, 50], value: 1 }] } });
    const n = 10;
    const submitted = await Promise.all(Array.from({ length: n }, (_, i) => api.deps.jobs.submit(principal, parsedSubmission(slow(3000 + i)), undefined, '/api/jobs')));
    const ids = submitted.map((s) => s.row.id);
    const rows = () => env.db('jobs').whereIn('id', ids).orderBy('id').select<Array<{ id: string; status: string; attempts: number; finished_at: Date | null; queue_entry: string | null }>>('id', 'status', 'attempts', 'finished_at', 'queue_entry');
    const entry = (await rows())[0]?.queue_entry;
    expect(entry).toMatch(/\.g$/);
    expect((await rows()).every((r) => r.queue_entry === entry)).toBe(true);

    const first = await startWorker(env, ENV);
    await until('two completed jobs', async () => ((await rows()).filter((r) => r.status === 'completed').length >= 2 ? true : undefined), 60_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await rows();
    const doneAtKill = atKill.filter((r) => r.status === 'completed');
    expect(doneAtKill.length).toBeLessThan(n);

    const second = await startWorker(env, ENV);
    const after = await until(
      'every job completed',
      async () => {
        const now = await rows();
        return now.every((r) => r.status === 'completed') ? now : undefined;
      },
      90_000,
    );
    await stopWorker(second);
    // Completed before the kill: untouched. The others ran again as the chunk's attempt 2.
    const before = new Map(doneAtKill.map((r) => [r.id, r]));
    for (const row of after) {
      const earlier = before.get(row.id);
      if (earlier) expect(row).toEqual(earlier);
      else expect(row.attempts).toBe(2);
    }
    const results = (await env.db('job_results').whereIn('job_id', ids).groupBy('job_id').select('job_id', env.db.raw('count(*)::int as n'))) as Array<{ n: number }>;
    expect(results).toHaveLength(n);
    expect(results.every((r) => r.n === 1)).toBe(true);
    expect(await env.db('job_chunks').where({ id: entry }).first('batch_id', 'attempts')).toEqual({ batch_id: null, attempts: 2 });
  });
});
