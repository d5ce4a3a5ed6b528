/**
 * Shared list reads (api/jobs/list-read-sharing.ts): identical lists of one tenant that wait for a
 * connection share one read; a list that comes once the read holds its connection makes its own,
 * so it sees every write committed before it; other pages and other tenants never share; a read's
 * body is rendered once for the requests that shared it; and on
 * the database, the shared page is the page `listJobs` reads, each tenant's own.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListReadSharing, type ListPage } from '../../api/jobs/list-read-sharing.ts';
import { createDb, type Db } from '../../shared/db.ts';
import { writeJobsAsTenant } from '../../shared/jobs/insert-statement.ts';
import { listJobs, type ListJobsOptions, type NewJob } from '../../shared/jobs/repository.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';

/** A read the test answers by hand: its calls, each with its options and its settle functions. */
function manualReads() {
  const calls: Array<{ tenantId: string; options: ListJobsOptions; resolve: (p: ListPage) => void; reject: (e: Error) => void }> = [];
  const read = (_db: Db, tenantId: string, options: ListJobsOptions) =>
    new Promise<ListPage>((resolve, reject) => {
      calls.push({ tenantId, options, resolve, reject });
    });
  return { calls, sharing: new ListReadSharing({} as Db, read) };
}

const page = (id: string): ListPage => ({ rows: [{ id } as ListPage['rows'][number]] });
const T1 = randomUUID();
const T2 = randomUUID();

describe('list reads waiting for a connection', () => {
  it('are shared when identical, and only until the read holds its connection', async () => {
    const { calls, sharing } = manualReads();
    const waiting = Array.from({ length: 2 + Math.floor(Math.random() * 8) }, () => sharing.list(T1, { limit: 10, status: 'completed' }));
    expect(calls).toHaveLength(1);
    expect(new Set(waiting).size).toBe(1);
    calls[0]?.options.onConnection?.();
    expect(sharing.openReads).toBe(0);
    // Came after the read took its connection: a read of its own, not the one in flight.
    const later = sharing.list(T1, { limit: 10, status: 'completed' });
    expect(calls).toHaveLength(2);
    calls[0]?.resolve(page('first'));
    calls[1]?.resolve(page('second'));
    for (const p of waiting) expect((await p).rows[0]?.id).toBe('first');
    expect((await later).rows[0]?.id).toBe('second');
  });

  it('are not shared across tenants or pages', () => {
    const { calls, sharing } = manualReads();
    const cursor = { at: '2026-01-01T00:00:00.000000Z', id: randomUUID() };
    const variants: Array<[string, Omit<ListJobsOptions, 'onConnection'>]> = [
      [T1, { limit: 10 }],
      [T2, { limit: 10 }],
      [T1, { limit: 11 }],
      [T1, { limit: 10, status: 'completed' }],
      [T1, { limit: 10, type: 'components' }],
      [T1, { limit: 10, batchId: randomUUID() }],
      [T1, { limit: 10, createdAfter: '2026-01-01T00:00:00Z' }],
      [T1, { limit: 10, after: cursor }],
      [T1, { limit: 10, after: { ...cursor, id: randomUUID() } }],
      [T1, { limit: 10, labels: { team: 'a' } }],
      [T1, { limit: 10, labels: { team: 'b' } }],
    ];
    for (const [tenantId, options] of variants) void sharing.list(tenantId, options);
    expect(calls).toHaveLength(variants.length);
    expect(calls.map((c) => c.tenantId)).toEqual(variants.map(([t]) => t));
  });

  it('render the body once per read, each read its own', async () => {
    const { calls, sharing } = manualReads();
    const joined = [sharing.list(T1, { limit: 10 }), sharing.list(T1, { limit: 10 })];
    calls[0]?.options.onConnection?.();
    const alone = sharing.list(T1, { limit: 10 });
    const ids = [randomUUID(), randomUUID()];
    calls[0]?.resolve(page(ids[0] as string));
    calls[1]?.resolve(page(ids[1] as string));
    let renders = 0;
    const render = (p: ListPage) => {
      renders++;
      return JSON.stringify(p.rows.map((r) => r.id));
    };
    const bodies = [...(await Promise.all(joined)), await alone].map((p) => sharing.body(p, render));
    expect(bodies).toEqual([JSON.stringify([ids[0]]), JSON.stringify([ids[0]]), JSON.stringify([ids[1]])]);
    expect(renders).toBe(2);
  });

  it('share a failure, then read again', async () => {
    const { calls, sharing } = manualReads();
    const [a, b] = [sharing.list(T1, { limit: 5 }), sharing.list(T1, { limit: 5 })];
    calls[0]?.reject(new Error('connection lost'));
    await expect(a).rejects.toThrow('connection lost');
    await expect(b).rejects.toThrow('connection lost');
    void sharing.list(T1, { limit: 5 });
    expect(calls).toHaveLength(2);
  });
});

describe('shared list reads on the database', () => {
  const env = useTestEnvironment();
  let single: Db;
  let a: TestTenant;
  let b: TestTenant;
  const newJob = (tenantId: string, i: number): NewJob => ({
    id: randomUUID(), tenantId, latticeId: null, latticeVersionId: null, type: 'shortest_path', lattice: { shape: [8, 8], boundary: 'open' },
    params: { start: [0, 0], end: [7, i % 8] }, cells: 64, memoryBytes: 4096, computeUnits: 64, maxAttempts: 3, idempotencyKey: null, requestHash: null,
  });

  beforeAll(async () => {
    single = createDb({ url: env.env.DATABASE_URL as string, poolMax: 1 });
    a = await createTestTenant(env.db, { plan: 'enterprise' });
    b = await createTestTenant(env.db, { plan: 'enterprise' });
    for (const [tenant, count] of [[a, 23], [b, 7]] as const) {
      await writeJobsAsTenant(single, tenant.tenantId, Array.from({ length: count }, (_, i) => newJob(tenant.tenantId, i)));
    }
  });

  afterAll(async () => {
    await single?.destroy();
  });

  it('read once for the lists queued behind a busy pool, each tenant its own page', async () => {
    let reads = 0;
    const sharing = new ListReadSharing(single, (db, tenantId, options) => {
      reads++;
      return listJobs(db, tenantId, options);
    });
    const pool = single.client as { acquireConnection(): Promise<unknown>; releaseConnection(c: unknown): Promise<void> };
    const held = await pool.acquireConnection();
    const ofA = Array.from({ length: 5 }, () => sharing.list(a.tenantId, { limit: 10 }));
    const ofB = Array.from({ length: 3 }, () => sharing.list(b.tenantId, { limit: 10 }));
    await pool.releaseConnection(held);
    const [pagesA, pagesB] = [await Promise.all(ofA), await Promise.all(ofB)];
    expect(reads).toBe(2);
    expect(pagesA.map((p) => p.rows.map((r) => r.id))).toEqual(Array(5).fill((await listJobs(single, a.tenantId, { limit: 10 })).rows.map((r) => r.id)));
    expect(pagesB[0]?.rows.map((r) => r.id)).toEqual((await listJobs(single, b.tenantId, { limit: 10 })).rows.map((r) => r.id));
    expect(pagesB[0]?.rows).toHaveLength(7);
  });

  it('list a job written once the shared read holds its connection', async () => {
    let acquired!: () => void;
    const holding = new Promise<void>((resolve) => (acquired = resolve));
    let reads = 0;
    const sharing = new ListReadSharing(single, (db, tenantId, options) => {
      reads++;
      return listJobs(db, tenantId, { ...options, onConnection: () => { acquired(); options.onConnection?.(); } });
    });
    const first = sharing.list(a.tenantId, { limit: 3 });
    await holding;
    const written = newJob(a.tenantId, 99);
    const writer = createDb({ url: env.env.DATABASE_URL as string, poolMax: 1 });
    try {
      await writeJobsAsTenant(writer, a.tenantId, [written]);
    } finally {
      await writer.destroy();
    }
    const second = await sharing.list(a.tenantId, { limit: 3 });
    await first;
    expect(reads).toBe(2);
    expect(second.rows[0]?.id).toBe(written.id);
  });
});
