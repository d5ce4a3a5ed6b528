/**
 * Stored lattices and their obstacles: an explicit list is bounded by the lattice's cell count
 * and stored once, in canonical form; jobs reference an immutable version of the lattice instead
 * of copying its spec, and a queued job runs on the version it was submitted with, whatever
 * happens to the lattice meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRetention } from '../../scheduler/retention.ts';
import type { CatalyticProcess } from '../support/processes.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { json, startWorker, stopWorker, submit, waitForJob } from './support.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let tenant: TestTenant;
let worker: CatalyticProcess | undefined;

beforeAll(async () => {
  tenant = await createTestTenant(env.db, { plan: 'free' });
});
afterAll(async () => {
  if (worker) await stopWorker(worker);
});

interface Lattice {
  id: string;
  version: number;
  spec: { shape?: number[]; obstacles?: { blocked: number[][] } };
}

async function createLattice(body: unknown): Promise<Lattice> {
  const response = await api.request('/api/lattices', { body, headers: tenant.headers });
  const lattice = await json<Lattice>(response);
  if (response.status !== 201) throw new Error(`POST /api/lattices answered ${response.status}: ${JSON.stringify(lattice)}`);
  return lattice;
}

/** Every cell of a 10×10×10 grid but the two corners, each listed `repeat` times. */
function cellsOfCube(repeat: number): number[][] {
  const cells: number[][] = [];
  for (let r = 0; r < repeat; r++) {
    for (let x = 0; x < 10; x++) for (let y = 0; y < 10; y++) for (let z = 0; z < 10; z++) {
      if ((x === 0 && y === 0 && z === 0) || (x === 9 && y === 9 && z === 9)) continue;
      cells.push([x, y, z]);
    }
  }
  return cells;
}

describe('explicit obstacles', () => {
  it('refuses a list longer than the lattice has cells, stored or inline, and writes nothing', async () => {
    const [before] = await env.db('lattices').where({ tenant_id: tenant.tenantId }).count<Array<{ count: string }>>('* as count');
    // 300 entries on 200 cells, the repeats of an abuser (within the plan's 1,000 cells, so the
    // lattice's own bound answers, not the plan's).
    const blocked = Array.from({ length: 300 }, (_, i) => [i % 10, Math.floor(i / 10) % 10, i % 2]);
    const stored = await api.request('/api/lattices', { body: { shape: [10, 10, 2], obstacles: { blocked } }, headers: tenant.headers });
    expect(stored.status).toBe(400);
    expect(await stored.json()).toMatchObject({ code: 'lattice_invalid', field: 'body.obstacles.blocked' });
    const inline = await api.request('/api/jobs', { body: { type: 'components', lattice: { shape: [10, 10, 2], obstacles: { blocked } } }, headers: tenant.headers });
    expect(inline.status).toBe(400);
    expect(await inline.json()).toMatchObject({ code: 'lattice_invalid', field: 'body.lattice.obstacles.blocked' });
    const [after] = await env.db('lattices').where({ tenant_id: tenant.tenantId }).count<Array<{ count: string }>>('* as count');
    expect(after).toEqual(before);
  });

  it('stores a list in canonical form: sorted by cell index, each cell once', async () => {
    const lattice = await createLattice({ shape: [3, 4], obstacles: { blocked: [[2, 2], [0, 1], [2, 2], [1, 0], [0, 1], [0, 3]] } });
    expect(lattice.spec.obstacles).toEqual({ blocked: [[0, 1], [0, 3], [1, 0], [2, 2]] });
    const read = await json<Lattice>(await api.request(`/api/lattices/${lattice.id}`, { headers: tenant.headers }));
    expect(read.spec).toEqual({ shape: [3, 4], boundary: 'open', obstacles: { blocked: [[0, 1], [0, 3], [1, 0], [2, 2]] } });
  });

  it('is stored once however many jobs run on it: jobs reference the version, never copy it', async () => {
    const lattice = await createLattice({ shape: [10, 10, 10], obstacles: { blocked: cellsOfCube(1) } });
    const jobs = [];
    for (let i = 0; i < 12; i++) jobs.push(await submit(api, tenant.headers, { type: 'components', lattice_id: lattice.id }));
    const rows = (await env.db('jobs')
      .whereIn('id', jobs.map((j) => j.id))
      .select('lattice', 'lattice_version_id')) as Array<{ lattice: unknown; lattice_version_id: string }>;
    const versions = (await env.db('lattice_versions').where({ lattice_id: lattice.id }).select('id', 'version')) as Array<{ id: string; version: number }>;
    expect(versions).toEqual([{ id: expect.any(String), version: 1 }]);
    expect(rows).toHaveLength(12);
    for (const row of rows) expect(row).toEqual({ lattice: null, lattice_version_id: versions[0]?.id });
  });

  it('keeps a version only while its lattice or a job needs it', async () => {
    const lattice = await createLattice({ shape: [5, 5] });
    const patch = (body: unknown) => api.request(`/api/lattices/${lattice.id}`, { method: 'PATCH', body, headers: tenant.headers });
    // A new name is not a new version.
    expect(await json<Lattice>(await patch({ name: 'renamed' }))).toMatchObject({ version: 1 });
    expect(await json<Lattice>(await patch({ obstacles: { blocked: [[1, 1]] } }))).toMatchObject({ version: 2 });
    expect(await json<Lattice>(await patch({ boundary: 'periodic' }))).toMatchObject({ version: 3 });
    // No job referenced versions 1 and 2: only the current one is left.
    expect(await env.db('lattice_versions').where({ lattice_id: lattice.id }).pluck('version')).toEqual([3]);
    expect((await api.request(`/api/lattices/${lattice.id}`, { method: 'DELETE', headers: tenant.headers })).status).toBe(204);
    expect(await env.db('lattice_versions').where({ tenant_id: tenant.tenantId }).whereNull('lattice_id').count('* as count')).toEqual([{ count: 0 }]);
  });

  it('lets retention remove a version once the jobs that needed it are gone', async () => {
    const lattice = await createLattice({ shape: [4, 4], obstacles: { blocked: [[1, 1]] } });
    const job = await submit(api, tenant.headers, { type: 'components', lattice_id: lattice.id });
    await api.request(`/api/lattices/${lattice.id}`, { method: 'PATCH', body: { obstacles: null }, headers: tenant.headers });
    expect(await env.db('lattice_versions').where({ lattice_id: lattice.id }).orderBy('version').pluck('version')).toEqual([1, 2]);
    // As retention deletes a finished job past its plan's days.
    await env.db('jobs').where({ id: job.id }).delete();
    const report = await applyRetention(env.db);
    expect(report.latticeVersions).toBeGreaterThanOrEqual(1);
    expect(await env.db('lattice_versions').where({ lattice_id: lattice.id }).pluck('version')).toEqual([2]);
  });
});

describe('jobs on stored lattices', () => {
  it('run on the version they were submitted with, after a change and after the lattice is gone', async () => {
    const lattice = await createLattice({ shape: [3, 3] });
    const path = { start: [0, 0], end: [2, 2] };
    const onOpen = await submit(api, tenant.headers, { type: 'shortest_path', lattice_id: lattice.id, params: path });
    // A wall across the middle column: no path from one side to the other.
    const walled = await api.request(`/api/lattices/${lattice.id}`, { method: 'PATCH', body: { obstacles: { blocked: [[0, 1], [1, 1], [2, 1]] } }, headers: tenant.headers });
    expect(await json<Lattice>(walled)).toMatchObject({ version: 2 });
    const onWall = await submit(api, tenant.headers, { type: 'shortest_path', lattice_id: lattice.id, params: path });
    expect((await api.request(`/api/lattices/${lattice.id}`, { method: 'DELETE', headers: tenant.headers })).status).toBe(204);
    const gone = await api.request('/api/jobs', { body: { type: 'shortest_path', lattice_id: lattice.id, params: path }, headers: tenant.headers });
    expect(gone.status).toBe(404);

    // Both versions outlive the lattice, for their jobs.
    expect(await env.db('lattice_versions').where({ tenant_id: tenant.tenantId }).whereNull('lattice_id').orderBy('version').pluck('version')).toEqual([1, 2]);
    worker = await startWorker(env);
    expect(await waitForJob(api, tenant.headers, onOpen.id)).toMatchObject({ status: 'completed', result: { reachable: true, length: 4 } });
    expect(await waitForJob(api, tenant.headers, onWall.id)).toMatchObject({ status: 'completed', result: { reachable: false } });
  });
});
