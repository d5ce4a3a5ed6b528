/**
 * A worker killed with SIGKILL in the middle of a batch's chunk (docs/architecture.md › Batches,
 * Losing nothing) with real processes: the chunk's lock expires, the stalled check puts its entry
 * back, and another worker runs only the rows still unfinished. No accepted job is lost, none
 * that had completed runs again (its row, result and finish time are untouched), every job has
 * exactly one result, and the batch completes with one `batch.completed` event. Taking a chunk
 * writes none of its rows: they stay `queued` (the one whose kernel runs reads `running`) and the
 * chunk's attempt is counted in `job_chunks`, so the rows the kill interrupted run again as
 * attempt 2. The paths kept in result rows survive the kill as the rows do.
 */
import { describe, expect, it } from 'vitest';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant } from '../support/tenants.ts';
import { json, startWorker, stopWorker } from './support.ts';
import { until } from '../harness/until.ts';

// Short locks so that the dead worker's chunk is noticed within seconds; one chunk for the batch.
const ENV = { JOB_LOCK_MS: '2000', BATCH_CHUNK_MAX_CELLS: '1000000000000', BATCH_CHUNK_MAX_JOBS: '100' };
const env = useTestEnvironment(ENV);
const api = useTestApi(env);

/**
 * Diffusion jobs of 1.6·10^5 cells and 3,000 steps, a few hundred ms each on one kernel thread
 * (about 0.5 ns a cell-step; enterprise allows sides of 400), so a chunk of them runs for seconds
 * however fast the stencil gets: the kill lands between jobs that have ended and jobs that have not.
 */
const JOBS = 12;
const SLOW = { lattice: { shape: [400, 400] }, type: 'diffusion', params: { alpha: 0.2, sources: [{ cell: [50, 50], value: 1 }] } };
const slowJob = (steps: number) => ({ ...SLOW, params: { ...SLOW.params, steps } });
const batchBody = { jobs: Array.from({ length: JOBS }, (_, i) => slowJob(3000 + i)) };

interface Row {
  id: string;
  status: string;
  attempts: number;
  finished_at: Date | null;
  queue_entry: string | null;
}


/**
 * At the kill: an unfinished row is `queued` with no attempt recorded (the chunk reached it not yet)
 * or `running` on attempt 1 (its kernel was seen running: the current one, and those whose final
 * write was waiting for its group commit); some are still `queued`.
 */
function expectUnfinishedAtKill(atKill: Row[]): void {
  const unfinished = atKill.filter((r) => r.status !== 'completed');
  const running = unfinished.filter((r) => r.status === 'running');
  expect(running.every((r) => r.attempts === 1)).toBe(true);
  const queued = unfinished.filter((r) => r.status !== 'running');
  expect(queued.length).toBeGreaterThan(0);
  expect(queued.every((r) => r.status === 'queued' && r.attempts === 0)).toBe(true);
}

/**
 * Starts a second worker and waits for every row to complete: the rows completed before the kill
 * are untouched, the rest ran once more (attempt 2) on the second worker.
 */
async function rerunAfterKill<R extends Row>(rows: () => Promise<R[]>, doneAtKill: R[], timeoutMs: number): Promise<{ after: R[]; output: string }> {
  const second = await startWorker(env, ENV);
  const after = await until(
    'every job final',
    async () => {
      const now = await rows();
      return now.every((r) => r.status === 'completed') ? now : undefined;
    },
    timeoutMs,
  );
  await stopWorker(second);
  const before = new Map(doneAtKill.map((r) => [r.id, r]));
  for (const row of after) {
    const earlier = before.get(row.id);
    if (earlier) expect(row).toEqual(earlier);
    else expect(row.attempts).toBe(2);
  }
  return { after, output: second.output() };
}

describe('a worker killed mid-chunk', () => {
  it('loses no job of the batch and runs none twice to completion', { timeout: 120_000 }, async () => {
    const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
    // An endpoint, so that the batch's end makes a delivery (nothing listens: it is only counted).
    const hook = await api.request('/api/webhooks', { body: { url: 'http://127.0.0.1:9/hook', events: ['batch.completed'] }, headers: tenant.headers });
    expect(hook.status).toBe(201);
    const first = await startWorker(env, ENV);
    const res = await api.request('/api/batches', { body: batchBody, headers: tenant.headers });
    expect(res.status).toBe(202);
    const batch = await json<{ id: string }>(res);
    const rows = () => env.db('jobs').where({ batch_id: batch.id }).orderBy('batch_index').select<Row[]>('id', 'status', 'attempts', 'finished_at', 'queue_entry');
    expect(new Set((await rows()).map((r) => r.queue_entry)).size).toBe(1);

    // Kill once some jobs of the chunk have completed and the rest have not.
    await until('two completed jobs', async () => ((await rows()).filter((r) => r.status === 'completed').length >= 2 ? true : undefined), 60_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await rows();
    const doneAtKill = atKill.filter((r) => r.status === 'completed');
    expect(doneAtKill.length).toBeGreaterThanOrEqual(2);
    expect(doneAtKill.length).toBeLessThan(JOBS);
    // No row was written when the chunk started: the unfinished ones are `queued` with no attempt
    // recorded, except the one whose kernel ran at the kill (`running`, attempt 1, on the dead worker).
    expectUnfinishedAtKill(atKill);
    expect(await env.db('job_chunks').where({ batch_id: batch.id }).select('attempts')).toEqual([{ attempts: 1 }]);

    const { after, output } = await rerunAfterKill(rows, doneAtKill, 90_000);
    expect(output).toMatch(/job stalled/);
    const results = (await env.db('job_results').whereIn('job_id', after.map((r) => r.id)).groupBy('job_id').select('job_id', env.db.raw('count(*)::int as n'))) as Array<{ n: number }>;
    expect(results).toHaveLength(JOBS);
    expect(results.every((r) => r.n === 1)).toBe(true);

    const stored = await env.db('batches').where({ id: batch.id }).first('unfinished', 'completed_at');
    expect(stored).toMatchObject({ unfinished: 0, completed_at: expect.any(Date) });
    const events = await env.db('webhook_deliveries').where({ batch_id: batch.id }).select('payload');
    expect(events).toHaveLength(1);
    expect(events[0].payload).toMatchObject({ type: 'batch.completed', data: { batch: { counts: { completed: JOBS } } } });
  });

  it('taken with no row written, a chunk of 100 loses no job or kept path, and counts each attempt once', { timeout: 180_000 }, async () => {
    // Enterprise: tiny paths are kept in their result rows. Every eighth job is a slow diffusion on
    // its own lattice, so the kill lands between tiny jobs that have ended and others that have not.
    const tenant = await createTestTenant(env.db, { plan: 'enterprise' });
    const size = 100;
    const body = {
      lattice: { shape: [64, 64] },
      jobs: Array.from({ length: size }, (_, i) =>
        i % 8 === 0
          ? slowJob(2000 + i)
          : { type: 'shortest_path', params: { start: [0, 0], end: [63, i % 64] } },
      ),
    };
    const first = await startWorker(env, ENV);
    const res = await api.request('/api/batches', { body, headers: tenant.headers });
    expect(res.status).toBe(202);
    const batch = await json<{ id: string }>(res);
    type Started = Row & { started_at: Date | null; type: string; state_version: number };
    const rows = () =>
      env.db('jobs').where({ batch_id: batch.id }).orderBy('batch_index').select<Started[]>('id', 'status', 'attempts', 'finished_at', 'queue_entry', 'started_at', 'type', 'state_version');
    expect(new Set((await rows()).map((r) => r.queue_entry)).size).toBe(1);

    await until('twenty completed jobs', async () => ((await rows()).filter((r) => r.status === 'completed').length >= 20 ? true : undefined), 90_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await rows();
    const doneAtKill = atKill.filter((r) => r.status === 'completed');
    expect(doneAtKill.length).toBeLessThan(size);
    expectUnfinishedAtKill(atKill);
    // A tiny job went from `queued` to `completed` in one write: its state version was raised once (0 → 1).
    const tinyDone = atKill.filter((r) => r.type === 'shortest_path' && r.status === 'completed');
    expect(tinyDone.length).toBeGreaterThan(0);
    expect(tinyDone.every((r) => Number(r.state_version) === 1 && r.attempts === 1 && r.started_at !== null)).toBe(true);
    const resultsAtKill = await env.db('job_results').whereIn('job_id', doneAtKill.map((r) => r.id)).select('job_id', 'artefacts');
    expect(resultsAtKill).toHaveLength(doneAtKill.length);

    const { after } = await rerunAfterKill(rows, doneAtKill, 120_000);
    // Exactly one result each; the results written before the kill are the ones there now.
    const results = (await env.db('job_results').whereIn('job_id', after.map((r) => r.id)).select('job_id', 'result', 'artefacts')) as Array<{
      job_id: string;
      result: { path?: number[][] };
      artefacts: Record<string, { data: string }> | null;
    }>;
    expect(results).toHaveLength(size);
    const byId = new Map(results.map((r) => [r.job_id, r]));
    for (const kept of resultsAtKill) expect(byId.get(kept.job_id)?.artefacts).toEqual(kept.artefacts);
    // Every path is kept in its result row and served by the artefact route; no blob was written.
    for (const row of after.filter((r) => r.type === 'shortest_path')) {
      const { result } = byId.get(row.id)!;
      const raw = await api.request(`/api/jobs/${row.id}/artefacts/path?format=raw`, { headers: tenant.headers });
      expect(raw.status).toBe(200);
      const bytes = Buffer.from(await raw.arrayBuffer());
      expect(Array.from(new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4))).toEqual(result.path!.flat());
    }
    expect(await env.db('blobs').where({ tenant_id: tenant.tenantId }).select('id')).toEqual([]);
    expect(await env.db('batches').where({ id: batch.id }).first('unfinished', 'completed_at')).toMatchObject({ unfinished: 0, completed_at: expect.any(Date) });
  });
});
