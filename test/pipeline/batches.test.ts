/**
 * Batches over real HTTP, PostgreSQL, Redis and a real worker process: a batch with refused jobs
 * writes nothing and names each by index; an accepted one is queued as a few chunk entries, every
 * job completes with the engine's result, its counts, events and NDJSON results follow, an
 * Idempotency-Key replays it, and `batch.completed` reaches the tenant's endpoint exactly once.
 * Cancelling a batch (no worker running) cancels every job and completes the batch.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantQueueName } from '../../shared/queues/names.ts';
import { closeRedis, createRedisFromConfig } from '../../shared/redis.ts';
import { CatalyticClient } from '../../client/index.ts';
import { KernelPool } from '../../worker/kernels/index.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import type { CatalyticProcess } from '../support/processes.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { eventually, TestReceiver } from '../webhooks/receiver.ts';
import { json, readEvents, startWorker, stopWorker } from './support.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let tenant: TestTenant;
let worker: CatalyticProcess;
let engine: KernelPool;
let receiver: TestReceiver;
let secret = '';

beforeAll(async () => {
  tenant = await createTestTenant(env.db, { plan: 'professional' });
  engine = new KernelPool({ threads: 1 });
  receiver = await new TestReceiver({ secrets: () => [secret] }).start();
  [worker] = await Promise.all([startWorker(env, { BATCH_CHUNK_MAX_JOBS: '100' }), engine.start()]);
  const res = await api.request('/api/webhooks', { body: { url: receiver.url, events: ['batch.completed'] }, headers: tenant.headers });
  expect(res.status).toBe(201);
  secret = ((await res.json()) as { secret: string }).secret;
});

afterAll(async () => {
  await stopWorker(worker);
  await engine.close();
  await receiver?.close();
});

interface BatchJson {
  id: string;
  status: string;
  total: number;
  counts: Record<string, number>;
  progress: number;
  labels: Record<string, string>;
  first_finished_at: string | null;
  last_finished_at: string | null;
  completed_at: string | null;
  job_ids?: string[];
}

const lattice = { shape: [12, 16], obstacles: { density: 0.2, seed: 5 } };

describe('POST /api/batches', () => {
  it('refuses a batch with bad jobs, naming each by index, and writes nothing', async () => {
    const res = await api.request('/api/batches', {
      body: {
        lattice,
        defaults: { type: 'shortest_path' },
        jobs: [
          { params: { start: [0, 0], end: [11, 15] } },
          { params: { start: [0, 0], end: [40, 1] } },
          { params: {} },
          { type: 'components' },
          { params: { start: [0, 0], end: [1, 1] }, labels: 'sweep' },
        ],
      },
      headers: tenant.headers,
    });
    expect(res.status).toBe(422);
    const problem = await json<{ code: string; refused: number; errors: Array<{ index: number; code: string }> }>(res);
    expect(problem.code).toBe('batch_invalid');
    expect(problem.refused).toBe(3);
    expect(problem.errors.map((e) => [e.index, e.code])).toEqual([
      [1, 'cell_out_of_bounds'],
      [2, 'validation_failed'],
      [4, 'validation_failed'],
    ]);
    const jobs = (await env.db('jobs').count('* as n')) as Array<{ n: string }>;
    const batches = (await env.db('batches').count('* as n')) as Array<{ n: string }>;
    expect([Number(jobs[0]?.n), Number(batches[0]?.n)]).toEqual([0, 0]);
  });

  it('runs an accepted batch in chunks to completion, with counts, events, results and one batch.completed', async () => {
    const ends = Array.from({ length: 250 }, (_, i) => [i % 12, (i * 7) % 16]);
    const body = { lattice, defaults: { type: 'shortest_path', params: { start: [0, 0] } }, labels: { sweep: '42' }, jobs: ends.map((end) => ({ params: { end } })) };
    const headers = { ...tenant.headers, 'idempotency-key': 'sweep-42' };
    const res = await api.request('/api/batches', { body, headers });
    expect(res.status).toBe(202);
    const batch = await json<BatchJson>(res);
    expect(batch).toMatchObject({ total: 250, labels: { sweep: '42' } });
    expect(batch.job_ids).toHaveLength(250);
    // 250 small jobs, 100 a chunk: three queue entries.
    const entries = await env.db('jobs').where({ batch_id: batch.id }).countDistinct('queue_entry as n');
    expect(Number((entries[0] as { n: string }).n)).toBe(3);

    const { events } = await readEvents(`${api.url}/api/batches/${batch.id}/events`, tenant.headers);
    const last = events[events.length - 1]?.data as BatchJson;
    expect(events.every((e) => e.event === 'counts')).toBe(true);
    expect(last).toMatchObject({ status: 'completed', progress: 1, counts: { completed: 250, queued: 0, running: 0, failed: 0, cancelled: 0 } });
    expect(last.first_finished_at! <= last.last_finished_at!).toBe(true);

    const got = await json<BatchJson>(await api.request(`/api/batches/${batch.id}`, { headers: tenant.headers }));
    expect(got.counts.completed).toBe(250);

    const results = await api.request(`/api/batches/${batch.id}/results`, { headers: tenant.headers });
    expect(results.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await results.text()).trim().split('\n').map((l) => JSON.parse(l) as { index: number; id: string; status: string; result_summary: { length: number | null; reachable: boolean } });
    expect(lines.map((l) => l.index)).toEqual(ends.map((_, i) => i));
    expect(lines.map((l) => l.id)).toEqual(batch.job_ids);
    for (const i of [0, 1, 77, 249]) {
      const expected = (await engine.run('shortest_path', lattice, { start: [0, 0], end: ends[i] })) as { length: number | null; reachable: boolean };
      expect(lines[i]).toMatchObject({ status: 'completed', result_summary: { reachable: expected.reachable, length: expected.length } });
    }

    const again = await api.request('/api/batches', { body, headers });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await json<BatchJson>(again)).job_ids).toEqual(batch.job_ids);
    const conflict = await api.request('/api/batches', { body: { ...body, labels: { sweep: '43' } }, headers });
    expect(conflict.status).toBe(409);

    const event = await eventually(async () => receiver.requests.find((r) => JSON.parse(r.body).data?.batch?.id === batch.id));
    expect(JSON.parse(event.body)).toMatchObject({ type: 'batch.completed', data: { batch: { id: batch.id, total: 250, counts: { completed: 250, failed: 0, cancelled: 0 } } } });
    const rows = await env.db('webhook_deliveries').where({ batch_id: batch.id });
    expect(rows).toHaveLength(1);

    const list = await json<{ data: Array<{ id: string; finished: number; status: string }> }>(await api.request('/api/batches?limit=5', { headers: tenant.headers }));
    expect(list.data[0]).toMatchObject({ id: batch.id, finished: 250, status: 'completed' });

    // The SDK reads the same batch, its counts and its results as an async iterator.
    const client = new CatalyticClient({ baseUrl: api.url, apiKey: tenant.apiKey });
    expect((await client.batches.get(batch.id)).counts.completed).toBe(250);
    const watched = [];
    for await (const update of client.batches.watch(batch.id)) watched.push(update.status);
    expect(watched).toEqual(['completed']);
    const streamed = [];
    for await (const line of client.batches.results(batch.id)) streamed.push(line.id);
    expect(streamed).toEqual(batch.job_ids);
    expect((await client.jobs.list({ batch_id: batch.id, limit: 3 })).data).toHaveLength(3);
  });

  it('keeps the small path artefact of every job of a batch in its result row and serves it as a stored one; a larger path is a blob', async () => {
    // Enterprise: no storage quota to count the bytes against, so a small path stays in the result row.
    const big = await createTestTenant(env.db, { plan: 'enterprise' });
    const ends = Array.from({ length: 120 }, (_, i) => [i % 12, (i * 5) % 16]);
    const res = await api.request('/api/batches', { body: { lattice, defaults: { type: 'shortest_path', params: { start: [0, 0] } }, jobs: ends.map((end) => ({ params: { end } })) }, headers: big.headers });
    expect(res.status).toBe(202);
    const batch = await json<BatchJson>(res);
    const { events } = await readEvents(`${api.url}/api/batches/${batch.id}/events`, big.headers);
    expect(events[events.length - 1]?.data).toMatchObject({ status: 'completed' });
    // Not one blob, chunk or artefact row for the batch's paths.
    expect(await env.db('blobs').where({ tenant_id: big.tenantId }).select('id')).toEqual([]);
    expect(await env.db('job_artefacts').where({ tenant_id: big.tenantId }).select('job_id')).toEqual([]);
    const served = async (jobId: string, path: number[][]) => {
      const bytes = Buffer.from(new Uint32Array(path.flat()).buffer);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const list = await json<{ data: Array<Record<string, unknown>>; stored: boolean }>(await api.request(`/api/jobs/${jobId}/artefacts`, { headers: big.headers }));
      const base = `/api/jobs/${jobId}/artefacts/path`;
      expect(list).toMatchObject({ stored: true, data: [{ name: 'path', dtype: '<u4', shape: [path.length, 2], size: bytes.length, sha256, links: { npy: `${base}?format=npy`, raw: `${base}?format=raw` } }] });
      const raw = await api.request(`${base}?format=raw`, { headers: big.headers });
      expect(raw.headers.get('etag')).toBe(`"${sha256}-raw"`);
      expect(Buffer.from(await raw.arrayBuffer())).toEqual(bytes);
      const npy = Buffer.from(await (await api.request(`${base}?format=npy`, { headers: { ...big.headers, 'accept-encoding': 'identity' } })).arrayBuffer());
      expect(npy.subarray(npy.length - bytes.length)).toEqual(bytes);
      expect(npy.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
      const part = await api.request(`${base}?format=raw`, { headers: { ...big.headers, range: 'bytes=4-11' } });
      expect(part.status).toBe(206);
      // A path of one cell is 8 bytes: the range ends at its last byte.
      const last = Math.min(11, bytes.length - 1);
      expect(part.headers.get('content-range')).toBe(`bytes 4-${last}/${bytes.length}`);
      expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(4, last + 1));
      const picture = await api.request(`/api/jobs/${jobId}/picture`, { headers: big.headers });
      expect(picture.status).toBe(200);
      return Buffer.from(await picture.arrayBuffer());
    };
    const results = (await env.db('jobs as j').join('job_results as r', 'r.job_id', 'j.id').where('j.batch_id', batch.id).orderBy('j.batch_index').select('j.id', 'r.result')) as Array<{ id: string; result: { path: number[][] | null } }>;
    expect(results).toHaveLength(120);
    let withPath = 0;
    for (const row of results) {
      const path = row.result.path ?? [];
      if (path.length === 0) {
        expect((await json<{ data: unknown[] }>(await api.request(`/api/jobs/${row.id}/artefacts`, { headers: big.headers }))).data).toEqual([]);
        continue;
      }
      withPath++;
      if (withPath <= 10) await served(row.id, path);
    }
    expect(withPath).toBeGreaterThan(10);

    // A path of 599 cells (4,792 bytes) is a blob of its own, listed and served alike, and drawn alike.
    const open = { shape: [300, 300] };
    const single = await api.request('/api/jobs', { body: { type: 'shortest_path', lattice: open, params: { start: [0, 0], end: [299, 299] } }, headers: big.headers });
    expect(single.status).toBe(202);
    const { id } = await json<{ id: string }>(single);
    const done = await eventually(async () => {
      const job = await json<{ status: string; result: { path: number[][] } | null }>(await api.request(`/api/jobs/${id}`, { headers: big.headers }));
      return job.status === 'completed' ? job : undefined;
    }, 60_000);
    expect(done.result?.path).toHaveLength(599);
    await served(id, done.result!.path);
    expect(await env.db('job_artefacts').where({ job_id: id }).select('name')).toEqual([{ name: 'path' }]);
  });

  it('labels jobs, lists them by label, status, type and creation time with the label index, and cancels by label', async () => {
    const before = new Date().toISOString();
    const single = await api.request('/api/jobs', { body: { type: 'components', lattice, labels: { sweep: '7', who: 'ann' } }, headers: tenant.headers });
    expect(single.status).toBe(202);
    const res = await api.request('/api/batches', {
      body: { lattice, defaults: { type: 'shortest_path' }, labels: { sweep: '7' }, jobs: [{ params: { start: [0, 0], end: [3, 3] }, labels: { who: 'bob' } }, { params: { start: [0, 0], end: [5, 5] } }] },
      headers: tenant.headers,
    });
    const batch = await json<BatchJson>(res);
    const bad = await api.request('/api/jobs?label=Sweep', { headers: tenant.headers });
    expect(bad.status).toBe(400);
    const list = async (query: string) =>
      (await json<{ data: Array<{ id: string; labels: Record<string, string>; batch_id: string | null }> }>(await api.request(`/api/jobs?${query}`, { headers: tenant.headers }))).data;
    expect((await list(`label=sweep:7&created_after=${encodeURIComponent(before)}`)).map((j) => j.id).sort()).toEqual([(await json<{ id: string }>(single)).id, ...batch.job_ids!].sort());
    expect((await list('label=sweep:7&label=who:bob')).map((j) => [j.id, j.labels, j.batch_id])).toEqual([[batch.job_ids![0], { sweep: '7', who: 'bob' }, batch.id]]);
    expect(await list('label=sweep:7&type=diffusion')).toEqual([]);
    expect(await list(`label=sweep:7&created_after=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);

    // The containment filter is answered by the GIN index on labels (on a few rows the planner
    // would scan the table; docs/performance.md shows the plan at a million rows).
    const plan = await env.db.transaction(async (trx) => {
      await trx.raw('set local enable_seqscan = off');
      const { rows } = await trx.raw<{ rows: Array<{ 'QUERY PLAN': string }> }>(`explain select id from jobs where labels @> '{"sweep":"7"}'`);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('jobs_labels');

    const cancel = await api.request('/api/jobs/cancel', { body: { label: ['sweep:7', 'who:ann'] }, headers: tenant.headers });
    expect(cancel.status).toBe(200);
    const outcome = await json<{ cancelled: number; stopping: number; more: boolean }>(cancel);
    expect(outcome.more).toBe(false);
    expect(outcome.cancelled + outcome.stopping).toBeLessThanOrEqual(1);
    expect((await api.request('/api/jobs/cancel', { body: { status: 'queued' }, headers: tenant.headers })).status).toBe(400);
  });

  it('queues a batch below its tenant\'s single jobs: an interactive job is fetched before the sweep', async () => {
    await stopWorker(worker);
    const sweep = await json<BatchJson>(
      await api.request('/api/batches', { body: { lattice, defaults: { type: 'components' }, jobs: Array.from({ length: 300 }, () => ({})) }, headers: tenant.headers }),
    );
    const single = await json<{ id: string }>(await api.request('/api/jobs', { body: { type: 'components', lattice }, headers: tenant.headers }));
    const connection = createRedisFromConfig(env.config, 'test:priority', 'blocking');
    const fetcher = new Worker(tenantQueueName(tenant.tenantId), undefined, { connection, prefix: env.redisPrefix, autorun: false });
    try {
      const first = await fetcher.getNextJob('t1', { block: false });
      const second = await fetcher.getNextJob('t2', { block: false });
      expect(first?.id).toBe(single.id);
      expect(second?.id).toBe(`${sweep.id}.0`);
      await first?.moveToWait('t1');
      await second?.moveToWait('t2');
    } finally {
      await fetcher.close();
      await closeRedis(connection);
    }
    expect((await api.request(`/api/batches/${sweep.id}`, { method: 'DELETE', headers: tenant.headers })).status).toBe(200);
  });

  it('cancels every unfinished job of a batch and completes it once', async () => {
    const res = await api.request('/api/batches', {
      body: { lattice, defaults: { type: 'components' }, jobs: Array.from({ length: 30 }, () => ({})) },
      headers: tenant.headers,
    });
    expect(res.status).toBe(202);
    const batch = await json<BatchJson>(res);
    const cancelled = await api.request(`/api/batches/${batch.id}`, { method: 'DELETE', headers: tenant.headers });
    expect(cancelled.status).toBe(200);
    expect(await json<BatchJson>(cancelled)).toMatchObject({ status: 'completed', counts: { cancelled: 30, queued: 0 } });
    const other = await createTestTenant(env.db);
    expect((await api.request(`/api/batches/${batch.id}`, { headers: other.headers })).status).toBe(404);
    const rows = await env.db('webhook_deliveries').where({ batch_id: batch.id }).select('payload');
    expect(rows).toHaveLength(1);
    expect(rows[0].payload).toMatchObject({ type: 'batch.completed', data: { batch: { counts: { cancelled: 30, completed: 0 } } } });
  });
});
