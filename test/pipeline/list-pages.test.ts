/**
 * The list routes (jobs, lattices, webhook deliveries): a cursor the API did not hand out is a
 * 400 problem, never a database error, on every one of them; a job list carries summaries, not
 * results, and a page stays within its byte budget however large its items.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LIST_PAGE_MAX_BYTES } from '../../api/list-page.ts';
import { encodeListCursor } from '../../shared/list-cursor.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { insertEndpoint } from '../webhooks/fixtures.ts';
import { json } from './support.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let tenant: TestTenant;
let listRoutes: string[];

const ID = '0b6f1d2e-3c4a-4b5c-8d6e-7f8091a2b3c4';

beforeAll(async () => {
  tenant = await createTestTenant(env.db);
  const endpoint = await insertEndpoint(env.db, tenant.tenantId, 'https://hooks.example.test/catalytic');
  listRoutes = ['/api/jobs', '/api/lattices', `/api/webhooks/${endpoint.id}/deliveries`];
});

const raw = (text: string) => Buffer.from(text).toString('base64url');

describe('list cursors', () => {
  // Each passes a pattern check of digits and hyphens, and each is refused by PostgreSQL's casts.
  const malformed = {
    'a 13th month': raw(`2024-13-01T00:00:00.000000Z|${ID}`),
    '30 February': raw(`2024-02-30T00:00:00.000000Z|${ID}`),
    'year 0': raw(`0000-01-01T00:00:00.000000Z|${ID}`),
    'hour 25': raw(`2024-01-01T25:00:00.000000Z|${ID}`),
    'minute 61': raw(`2024-01-01T00:61:00.000000Z|${ID}`),
    'an id of hyphens': raw('2024-01-01T00:00:00.000000Z|------------------------------------'),
    'an id with misplaced hyphens': raw('2024-01-01T00:00:00.000000Z|0b6f1d2e3c4a-4b5c-8d6e-7f8091a2b3c4-'),
    'a third part': raw(`2024-01-01T00:00:00.000000Z|${ID}|x`),
    'not base64 of a cursor': 'bm90IGEgY3Vyc29y',
  };

  for (const [what, cursor] of Object.entries(malformed)) {
    it(`answers 400 to ${what} on every list route`, async () => {
      for (const route of listRoutes) {
        const response = await api.request(`${route}?cursor=${cursor}`, { headers: tenant.headers });
        const problem = await json<{ code: string; errors?: Array<{ path: string }> }>(response);
        expect({ route, status: response.status }).toEqual({ route, status: 400 });
        expect(problem).toMatchObject({ code: 'validation_failed', errors: [{ path: 'query.cursor' }] });
      }
    });
  }

  it('accepts a well-formed cursor on every list route', async () => {
    const cursor = encodeListCursor({ at: '2024-02-29T23:59:59.999999Z', id: ID });
    for (const route of listRoutes) {
      const response = await api.request(`${route}?cursor=${cursor}`, { headers: tenant.headers });
      expect({ route, status: response.status }).toEqual({ route, status: 200 });
      expect(await json<{ data: unknown[] }>(response)).toMatchObject({ data: [], next_cursor: null });
    }
  });
});

/** A finished job row with its result, arranged directly (as a worker would leave it). */
async function insertFinishedJob(
  tenantId: string,
  job: { type: string; status: 'completed' | 'failed'; result?: Record<string, unknown>; error?: { code: string; message: string } },
): Promise<string> {
  const [row] = await env.db('jobs')
    .insert({
      tenant_id: tenantId,
      type: job.type,
      status: job.status,
      lattice: { shape: [1000, 1000], boundary: 'open' },
      params: {},
      cells: 1_000_000,
      progress: 1,
      error: job.error ?? null,
      finished_at: env.db.fn.now(),
    })
    .returning<Array<{ id: string }>>('id');
  const id = (row as { id: string }).id;
  if (job.result) await env.db('job_results').insert({ job_id: id, tenant_id: tenantId, result: job.result });
  return id;
}

describe('job lists', () => {
  it('carry result summaries, never results; the result comes from /result', async () => {
    const owner = await createTestTenant(env.db);
    // A long winding path on a 1000×1000 lattice: a result of a few megabytes.
    const path = Array.from({ length: 200_000 }, (_, i) => [Math.floor(i / 1000), i % 1000]);
    const result = { reachable: true, length: path.length - 1, path, visited: 900_000, memory_bytes: 262_144 };
    const id = await insertFinishedJob(owner.tenantId, { type: 'shortest_path', status: 'completed', result });

    const response = await api.request('/api/jobs?limit=5', { headers: owner.headers });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(Buffer.byteLength(text)).toBeLessThan(4096);
    const page = JSON.parse(text) as { data: Array<Record<string, unknown>> };
    expect(page.data).toHaveLength(1);
    expect(page.data[0]).toMatchObject({
      id,
      status: 'completed',
      result_summary: { reachable: true, length: 199_999, visited: 900_000, memory_bytes: 262_144 },
      links: { result: `/api/jobs/${id}/result` },
    });
    expect(page.data[0]).not.toHaveProperty('result');
    expect(page.data[0]).not.toHaveProperty('result_summary.path');

    const full = await json<{ path: number[][] }>(await api.request(`/api/jobs/${id}/result`, { headers: owner.headers }));
    expect(full.path).toHaveLength(200_000);
  });

  it('stop a page at its byte budget and go on from there with the cursor', async () => {
    const owner = await createTestTenant(env.db);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const message = `attempt failed: ${String(i).padStart(2, '0')} ${'x'.repeat(60_000)}`;
      ids.push(await insertFinishedJob(owner.tenantId, { type: 'components', status: 'failed', error: { code: 'internal', message } }));
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response = await api.request(`/api/jobs?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { headers: owner.headers });
      const text = await response.text();
      expect(response.status).toBe(200);
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(LIST_PAGE_MAX_BYTES + 1024);
      const page = JSON.parse(text) as { data: Array<{ id: string }>; next_cursor: string | null };
      expect(page.data.length).toBeGreaterThan(0);
      seen.push(...page.data.map((job) => job.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 20);
    expect(pages).toBeGreaterThanOrEqual(3);
    // Newest first, each job exactly once.
    const rows = await env.db('jobs').where({ tenant_id: owner.tenantId }).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).select('id');
    expect(seen).toEqual(rows.map((row: { id: string }) => row.id));
    expect(new Set(seen)).toEqual(new Set(ids));
  });
});
