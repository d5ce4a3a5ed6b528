/** Stored lattices over HTTP: create, list, change, delete — and jobs keep the version they were submitted with. */
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { json, submit } from './support.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let tenant: TestTenant;

interface LatticeJson {
  id: string;
  name: string | null;
  spec: Record<string, unknown>;
  dimensions: number;
  shape: number[];
  cells: number;
  boundary?: string;
  obstacles?: unknown;
}

beforeAll(async () => {
  tenant = await createTestTenant(env.db);
});

describe('lattices', () => {
  it('stores a spec as given, lists without obstacle lists, changes and deletes it', async () => {
    const blocked = [
      [1, 1],
      [2, 2],
    ];
    const created = await api.request('/api/lattices', { body: { name: 'small', shape: [4, 5], obstacles: { blocked } }, headers: tenant.headers });
    expect(created.status).toBe(201);
    const lattice = await json<LatticeJson>(created);
    expect(created.headers.get('location')).toBe(`/api/lattices/${lattice.id}`);
    expect(lattice).toMatchObject({ name: 'small', dimensions: 2, shape: [4, 5], cells: 20, spec: { shape: [4, 5], boundary: 'open', obstacles: { blocked } } });
    const cube = await json<LatticeJson>(await api.request('/api/lattices', { body: { dimensions: 3, size: 4, boundary: 'periodic' }, headers: tenant.headers }));
    expect(cube).toMatchObject({ name: null, shape: [4, 4, 4], cells: 64 });

    const page = await json<{ data: LatticeJson[]; next_cursor: string | null }>(await api.request('/api/lattices?limit=1', { headers: tenant.headers }));
    expect(page.data.map((l) => l.id)).toEqual([cube.id]);
    const rest = await json<{ data: LatticeJson[]; next_cursor: string | null }>(
      await api.request(`/api/lattices?limit=1&cursor=${page.next_cursor}`, { headers: tenant.headers }),
    );
    expect(rest.data[0]).toMatchObject({ id: lattice.id, boundary: 'open', obstacles: 'explicit' });
    expect(rest.data[0]).not.toHaveProperty('spec');
    expect(rest.next_cursor).toBeNull();

    // A job references the lattice's version: changing the lattice afterwards makes a new one.
    expect(lattice).toMatchObject({ version: 1 });
    const job = await submit(api, tenant.headers, { type: 'components', lattice_id: lattice.id });
    const changed = await api.request(`/api/lattices/${lattice.id}`, {
      method: 'PATCH',
      body: { name: 'bigger', dimensions: 2, size: 6, obstacles: null },
      headers: tenant.headers,
    });
    expect(changed.status).toBe(200);
    expect(await json<LatticeJson>(changed)).toMatchObject({ name: 'bigger', version: 2, shape: [6, 6], cells: 36, spec: { dimensions: 2, size: 6, boundary: 'open' } });
    const row = await env.db('jobs as j').join('lattice_versions as v', 'v.id', 'j.lattice_version_id').where('j.id', job.id).first('j.lattice', 'j.cells', 'v.version', 'v.spec', 'v.blocked');
    expect(row).toEqual({ lattice: null, cells: 20, version: 1, spec: { shape: [4, 5], boundary: 'open' }, blocked });

    const bad = await api.request(`/api/lattices/${lattice.id}`, { method: 'PATCH', body: { size: 70_000, dimensions: 3 }, headers: tenant.headers });
    expect(bad.status).toBe(400);
    expect((await bad.json()) as { code: string }).toMatchObject({ code: 'too_many_cells' });

    expect((await api.request(`/api/lattices/${lattice.id}`, { method: 'DELETE', headers: tenant.headers })).status).toBe(204);
    expect((await api.request(`/api/lattices/${lattice.id}`, { headers: tenant.headers })).status).toBe(404);
    // The job survives its lattice, with its version.
    expect(await env.db('jobs as j').join('lattice_versions as v', 'v.id', 'j.lattice_version_id').where('j.id', job.id).first('j.lattice_id', 'j.cells', 'v.version')).toEqual({
      lattice_id: null,
      cells: 20,
      version: 1,
    });
  });

  it('stores a boundary per axis, refuses a list that does not name every axis, and runs jobs on it', async () => {
    const bad = await api.request('/api/lattices', { body: { shape: [4, 5], boundary: ['periodic'] }, headers: tenant.headers });
    expect(bad.status).toBe(400);
    expect(await json<{ code: string }>(bad)).toMatchObject({ code: 'lattice_invalid' });
    const created = await api.request('/api/lattices', { body: { shape: [6, 4], boundary: ['periodic', 'open'] }, headers: tenant.headers });
    expect(created.status).toBe(201);
    const lattice = await json<LatticeJson>(created);
    expect(lattice.spec).toMatchObject({ boundary: ['periodic', 'open'] });
    const listed = await json<{ data: LatticeJson[] }>(await api.request('/api/lattices?limit=100', { headers: tenant.headers }));
    expect(listed.data.find((l) => l.id === lattice.id)).toMatchObject({ boundary: ['periodic', 'open'] });
    // What the kernels answer on it: test/kernels/per-axis-boundary.property.test.ts.
    const job = await submit(api, tenant.headers, { type: 'shortest_path', lattice_id: lattice.id, params: { start: [0, 0], end: [5, 3] } });
    expect(job).toMatchObject({ status: 'queued', type: 'shortest_path' });
    const inline = await api.request('/api/jobs', { body: { type: 'components', lattice: { shape: [3, 3, 3], boundary: ['open', 'periodic'] } }, headers: tenant.headers });
    expect(inline.status).toBe(400);
  });
});
