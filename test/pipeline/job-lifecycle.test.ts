/**
 * The core loop over real HTTP, PostgreSQL, Redis and a real worker process: each job type is
 * submitted, followed by polling and by server-sent events, and its result equals what the
 * lattice engine computes for the same input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelPool } from '../../worker/kernels/index.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import type { CatalyticProcess } from '../support/processes.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { json, type JobJson, readEvents, startWorker, stopWorker, submit, waitForJob } from './support.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let tenant: TestTenant;
let worker: CatalyticProcess;
let engine: KernelPool;

beforeAll(async () => {
  tenant = await createTestTenant(env.db, { plan: 'professional' });
  engine = new KernelPool({ threads: 1 });
  [worker] = await Promise.all([startWorker(env), engine.start()]);
});

afterAll(async () => {
  await stopWorker(worker);
  await engine.close();
});

const maze = { shape: [30, 40], obstacles: { density: 0.25, seed: 7 } };

describe('a job, submitted over HTTP', () => {
  it('runs each job type to completion with the result the engine computes', async () => {
    const created = await api.request('/api/lattices', { body: { name: 'maze', ...maze }, headers: tenant.headers });
    expect(created.status).toBe(201);
    const lattice = await json<{ id: string; cells: number; dimensions: number; shape: number[] }>(created);
    expect(lattice).toMatchObject({ cells: 1200, dimensions: 2, shape: [30, 40] });

    const cases = [
      { type: 'shortest_path', lattice_id: lattice.id, params: { start: [0, 0], end: [29, 39] } },
      { type: 'components', lattice_id: lattice.id },
      {
        type: 'diffusion',
        lattice: { dimensions: 3, size: 8, boundary: 'periodic' },
        params: { steps: 25, alpha: 0.1, sources: [{ cell: [1, 2, 3], value: 2 }], initial: [{ cell: [4, 4, 4], value: 10 }] },
        artefacts: ['field'],
      },
    ] as const;
    const submitted = await Promise.all(cases.map((body) => submit(api, tenant.headers, body)));
    for (const job of submitted) {
      expect(job.status).toBe('queued');
      expect(job.links.self).toBe(`/api/jobs/${job.id}`);
    }
    const finished = await Promise.all(submitted.map((job) => waitForJob(api, tenant.headers, job.id)));
    const expected = [
      await engine.run('shortest_path', maze, { start: [0, 0], end: [29, 39] }),
      await engine.run('components', maze, {}),
      await engine.run('diffusion', cases[2].lattice, cases[2].params),
    ];
    // The worker's diffusion also keeps its whole field for the artefact it asked for: 4 bytes a cell more.
    const diffusion = expected[2] as { memory_bytes: number };
    diffusion.memory_bytes += 4 * 8 ** 3;
    finished.forEach((job, i) => {
      expect(job).toMatchObject({ status: 'completed', progress: 1, attempts: 1, error: null });
      // The summary the engine computes, and where the full arrays were stored.
      expect(job.result).toEqual({ ...expected[i], artefacts: expect.objectContaining({ stored: true, list: `/api/jobs/${job.id}/artefacts` }) });
      expect(job.started_at).not.toBeNull();
      expect(job.queue_wait_ms).toBeGreaterThanOrEqual(0);
      expect(job.run_ms).toBeGreaterThanOrEqual(0);
    });
    const result = await api.request(`/api/jobs/${finished[0]!.id}/result`, { headers: tenant.headers });
    expect(result.status).toBe(200);
    expect(await result.json()).toEqual({ ...expected[0], artefacts: finished[0]!.result!['artefacts'] });

    // One result row per job, and the usage of the tenant counted.
    const rows = await env.db('job_results').whereIn('job_id', submitted.map((j) => j.id)).count<{ count: string }[]>('* as count');
    expect(Number(rows[0]?.count)).toBe(3);
    // Compute usage is written by the worker within about a second of completion.
    const usage = async () => {
      const rows = await env.db('usage_counters').where({ tenant_id: tenant.tenantId }).select('metric', 'value');
      return Object.fromEntries(rows.map((u: { metric: string; value: number }) => [u.metric, Number(u.value)]));
    };
    await expect.poll(usage, { timeout: 5000 }).toMatchObject({
      'jobs.shortest_path': 1,
      'jobs.components': 1,
      'jobs.diffusion': 1,
      compute_cells: 1200 + 1200 + 512 * 25,
      // Charged at acceptance: cells, cells, and cells × steps + sources × steps + initial points.
      compute_units: 1200 + 1200 + 512 * 25 + 1 * 25 + 1,
    });
  });

  it('streams status and progress as server-sent events until the job finishes', async () => {
    const job = await submit(api, tenant.headers, {
      type: 'diffusion',
      // Large enough (6.4·10^8 cell-steps, ~0.3–0.6 s on the fused stencil) to outlast the 200 ms
      // between progress messages, so progress shows.
      lattice: { shape: [100, 100] },
      params: { steps: 64000, alpha: 0.2, sources: [{ cell: [50, 50], value: 1 }] },
    });
    const stream = await readEvents(`${api.url}/api/jobs/${job.id}/events`, tenant.headers);
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    const statuses = stream.events.filter((e) => e.event === 'status').map((e) => (e.data as JobJson).status);
    expect(statuses.at(-1)).toBe('completed');
    expect(statuses).toContain('running');
    const last = stream.events.at(-1)!.data as JobJson;
    expect(last.result).toMatchObject({ total_heat: expect.any(Number) });
    const progress = stream.events.filter((e) => e.event === 'progress').map((e) => (e.data as { progress: number }).progress);
    expect(progress.length).toBeGreaterThan(0);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);

    // A finished job's stream is one final event.
    const again = await readEvents(`${api.url}/api/jobs/${job.id}/events`, tenant.headers);
    expect(again.events).toHaveLength(1);
    expect(again.events[0]).toMatchObject({ event: 'status', data: { status: 'completed' } });
  });

  it('answers a path request with its result when it finishes in time, else 202', async () => {
    const lattice = await json<{ id: string }>(await api.request('/api/lattices', { body: { shape: [6, 6] }, headers: tenant.headers }));
    const quick = await api.request('/api/lattices/path', { body: { lattice_id: lattice.id, start: [0, 0], end: [5, 5] }, headers: tenant.headers });
    expect(quick.status).toBe(200);
    expect(await quick.json()).toMatchObject({ status: 'completed', result: { reachable: true, length: 10 } });

    const later = await api.request('/api/lattices/path', {
      body: { lattice_id: lattice.id, start: [0, 0], end: [5, 5], wait_ms: 0 },
      headers: tenant.headers,
    });
    expect(later.status).toBe(202);
    const pending = await json<JobJson>(later);
    expect(later.headers.get('location')).toBe(`/api/jobs/${pending.id}`);
    expect((await waitForJob(api, tenant.headers, pending.id)).result).toMatchObject({ length: 10 });
  });

  it('lists jobs newest first, filtered by status and type, page by page', async () => {
    const seen: JobJson[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: JobJson[]; next_cursor: string | null } = await json(
        await api.request(`/api/jobs?limit=2&type=shortest_path${cursor ? `&cursor=${cursor}` : ''}`, { headers: tenant.headers }),
      );
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor);
    const rows = await env.db('jobs').where({ tenant_id: tenant.tenantId, type: 'shortest_path' }).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).select('id');
    expect(seen.map((j) => j.id)).toEqual(rows.map((r: { id: string }) => r.id));
    expect(seen.every((j) => j.type === 'shortest_path')).toBe(true);

    const completed: { data: JobJson[] } = await json(await api.request('/api/jobs?status=completed&type=components', { headers: tenant.headers }));
    expect(completed.data).toHaveLength(1);
    // A list carries the result's scalar fields, not the result: that comes from the job or /result.
    expect(completed.data[0]).toMatchObject({ status: 'completed', type: 'components', result_summary: { count: expect.any(Number), largest: expect.any(Number) } });
    expect(completed.data[0]).not.toHaveProperty('result');
    expect(completed.data[0]).not.toHaveProperty('result_summary.histogram');
    const none: { data: JobJson[] } = await json(await api.request('/api/jobs?status=failed', { headers: tenant.headers }));
    expect(none.data).toEqual([]);
  });
});
