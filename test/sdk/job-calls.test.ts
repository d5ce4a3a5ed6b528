/**
 * The SDK's lattice and job calls against the real stack (API, worker process, PostgreSQL,
 * Redis): every call, the events stream as an async iterator, waiting with an AbortSignal,
 * watching by events and by polling, cancelling, and typed errors.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CatalyticApiError, CatalyticClient, type JobEvent, type JobSubmission, type JobUpdate } from '../../client/index.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import { startWorker } from '../cli/stack.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let client: CatalyticClient;
let stranger: CatalyticClient;

/** A diffusion long enough to watch for a few seconds, short enough not to hog the machine. */
function slow(steps = 40_000): JobSubmission {
  return { type: 'diffusion', lattice: { shape: [100, 100] }, params: { steps, alpha: 0.2, sources: [{ cell: [50, 50], value: 5 }] } };
}
const SLOW = slow();

async function apiError(promise: Promise<unknown>): Promise<CatalyticApiError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(CatalyticApiError);
  return error as CatalyticApiError;
}

beforeAll(async () => {
  const [tenant, other] = await Promise.all([createTestTenant(env.db, { plan: 'professional' }), createTestTenant(env.db)]);
  client = new CatalyticClient({ baseUrl: api.url, apiKey: tenant.apiKey });
  stranger = new CatalyticClient({ baseUrl: api.url, apiKey: other.apiKey });
  await startWorker(env);
});

describe('lattices', () => {
  it('creates, lists, reads, updates and deletes a lattice', async () => {
    const created = await client.lattices.create({ name: 'maze', shape: [20, 30], obstacles: { density: 0.2, seed: 3 } });
    expect(created).toMatchObject({ name: 'maze', shape: [20, 30], cells: 600, dimensions: 2, spec: { boundary: 'open' } });
    const second = await client.lattices.create({ dimensions: 3, size: 4, boundary: 'periodic' });

    const firstPage = await client.lattices.list({ limit: 1 });
    expect(firstPage.data).toHaveLength(1);
    expect(firstPage.next_cursor).toEqual(expect.any(String));
    const all = [];
    for await (const lattice of client.lattices.all({ limit: 1 })) all.push(lattice.id);
    expect(all.sort()).toEqual([created.id, second.id].sort());

    expect(await client.lattices.get(created.id)).toMatchObject({ id: created.id, spec: { obstacles: { density: 0.2, seed: 3 } } });
    const updated = await client.lattices.update(created.id, { name: 'renamed', obstacles: null });
    expect(updated).toMatchObject({ name: 'renamed' });
    expect(updated.spec.obstacles).toBeUndefined();

    await client.lattices.delete(second.id);
    expect(await apiError(client.lattices.get(second.id))).toMatchObject({ status: 404, code: 'not_found' });
    expect(await apiError(stranger.lattices.get(created.id))).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('answers a shortest path on a stored lattice at once', async () => {
    const lattice = await client.lattices.create({ shape: [10, 10] });
    const answer = await client.lattices.path({ lattice_id: lattice.id, start: [0, 0], end: [9, 9], wait_ms: 20_000 });
    expect(answer.status).toBe(200);
    expect(answer.job).toMatchObject({ type: 'shortest_path', status: 'completed', result: { reachable: true, length: 18 } });
  });

  it('refuses a malformed lattice field by field', async () => {
    const error = await apiError(client.lattices.create({ shape: [0, 5] }));
    expect(error).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(error.errors[0]?.path).toMatch(/^body\.shape/);
  });
});

describe('jobs', () => {
  it('submits, waits for and reads a job and its result', async () => {
    const job = await client.jobs.submit({ type: 'shortest_path', lattice: { shape: [12, 12] }, params: { start: [0, 0], end: [11, 11] } });
    expect(job).toMatchObject({ status: 'queued', type: 'shortest_path', links: { self: `/api/jobs/${job.id}` } });
    const done = await client.jobs.wait(job.id, { signal: AbortSignal.timeout(30_000) });
    expect(done).toMatchObject({ id: job.id, status: 'completed', progress: 1, result: { reachable: true, length: 22 } });
    const result = await client.jobs.result<'shortest_path'>(job.id);
    expect(result.length).toBe(22);
    expect(result.path[0]).toEqual([0, 0]);
    expect(await client.jobs.get(job.id)).toMatchObject({ id: job.id, status: 'completed' });
  });

  it('makes a repeated submission with the same Idempotency-Key the same job', async () => {
    const body: JobSubmission = { type: 'components', lattice: { shape: [8, 8] }, params: {} };
    const key = randomUUID();
    const first = await client.jobs.submit(body, { idempotencyKey: key });
    const again = await client.jobs.submit(body, { idempotencyKey: key });
    expect(again.id).toBe(first.id);
    const conflict = await apiError(client.jobs.submit({ ...body, lattice: { shape: [9, 9] } }, { idempotencyKey: key }));
    expect(conflict).toMatchObject({ status: 409, code: 'idempotency_conflict' });
    // Without a key each submission is its own job (the SDK sends a fresh key each time).
    const [a, b] = await Promise.all([client.jobs.submit(body), client.jobs.submit(body)]);
    expect(a.id).not.toBe(b.id);
    await Promise.all([first, a, b].map((j) => client.jobs.wait(j.id)));
  });

  it('streams status and progress events until the job ends', async () => {
    const job = await client.jobs.submit(SLOW);
    const events: JobEvent[] = [];
    for await (const event of client.jobs.events(job.id, { signal: AbortSignal.timeout(60_000) })) events.push(event);
    expect(events[0]).toMatchObject({ event: 'status', data: { id: job.id } });
    expect(events.some((e) => e.event === 'progress')).toBe(true);
    const progress = events.filter((e) => e.event === 'progress').map((e) => (e.data as { progress: number }).progress);
    expect(progress).toEqual([...progress].sort((x, y) => x - y));
    expect(events.at(-1)).toMatchObject({ event: 'status', data: { status: 'completed', result: { total_heat: expect.any(Number) } } });
  });

  it('watches a job by events and by polling, each ending with the final job', async () => {
    // The polled job runs for seconds even on idle cores: the row's progress moves once a second,
    // so polling sees more than its start and its end only if the job outlasts a few of those.
    const [byEvents, byPolling] = await Promise.all([client.jobs.submit(SLOW), client.jobs.submit(slow(300_000))]);
    const collect = async (id: string, transport: 'events' | 'poll') => {
      const updates: JobUpdate[] = [];
      for await (const update of client.jobs.watch(id, { transport, pollIntervalMs: 200 })) updates.push(update);
      return updates;
    };
    const [eventUpdates, pollUpdates] = await Promise.all([collect(byEvents.id, 'events'), collect(byPolling.id, 'poll')]);
    for (const updates of [eventUpdates, pollUpdates]) {
      expect(updates.at(-1)?.job).toMatchObject({ status: 'completed', progress: 1, result: expect.any(Object) });
      const progress = updates.map((u) => u.job.progress);
      expect(progress).toEqual([...progress].sort((x, y) => x - y));
      expect(updates.filter((u) => ['completed', 'failed', 'cancelled'].includes(u.job.status))).toHaveLength(1);
    }
    expect(eventUpdates.some((u) => u.source === 'events')).toBe(true);
    expect(pollUpdates.every((u) => u.source === 'poll')).toBe(true);
    expect(pollUpdates.length).toBeGreaterThan(2);
  });

  it('stops waiting when the signal aborts, and the job goes on', async () => {
    const job = await client.jobs.submit(SLOW);
    const reason = new Error('gave up');
    const controller = new AbortController();
    const seen: JobUpdate[] = [];
    const waiting = client.jobs.wait(job.id, {
      signal: controller.signal,
      onUpdate: (update) => {
        seen.push(update);
        if (update.job.status === 'running') controller.abort(reason);
      },
    });
    await expect(waiting).rejects.toBe(reason);
    expect(seen.length).toBeGreaterThan(0);
    expect((await client.jobs.wait(job.id)).status).toBe('completed');
  });

  it('cancels a running job', async () => {
    const job = await client.jobs.submit(slow(200_000));
    for await (const update of client.jobs.watch(job.id)) if (update.job.status === 'running') break;
    const cancelling = await client.jobs.cancel(job.id);
    expect(['running', 'cancelled']).toContain(cancelling.status);
    const done = await client.jobs.wait(job.id, { signal: AbortSignal.timeout(20_000) });
    expect(done.status).toBe('cancelled');
    const noResult = await apiError(client.jobs.result(job.id));
    expect(noResult.status).toBe(409);
  });

  it('lists jobs with filters, page by page', async () => {
    const page = await client.jobs.list({ limit: 2 });
    expect(page.data).toHaveLength(2);
    expect(page.next_cursor).toEqual(expect.any(String));
    const all = [];
    for await (const job of client.jobs.all({ limit: 3 })) all.push(job);
    expect(all.length).toBeGreaterThanOrEqual(8);
    expect(new Set(all.map((j) => j.id)).size).toBe(all.length);
    const cancelled = await client.jobs.list({ status: 'cancelled' });
    expect(cancelled.data.length).toBeGreaterThanOrEqual(1);
    expect(cancelled.data.every((j) => j.status === 'cancelled')).toBe(true);
    const components = await client.jobs.list({ type: 'components', limit: 100 });
    expect(components.data.length).toBeGreaterThanOrEqual(3);
    expect(components.data.every((j) => j.type === 'components')).toBe(true);
  });

  it("answers 404 for another tenant's job and a typed 400 for a bad submission", async () => {
    const job = await client.jobs.submit({ type: 'components', lattice: { shape: [4, 4] } });
    for (const call of [() => stranger.jobs.get(job.id), () => stranger.jobs.cancel(job.id), () => stranger.jobs.result(job.id)]) {
      expect(await apiError(call())).toMatchObject({ status: 404, code: 'not_found' });
    }
    const bad = await apiError(client.jobs.submit({ type: 'shortest_path', lattice: { shape: [4, 4] }, params: { start: [0, 0], end: [9, 9] } }));
    expect(bad.status).toBe(400);
    expect(bad.detail).toMatch(/end/);
    await client.jobs.wait(job.id);
  });
});
