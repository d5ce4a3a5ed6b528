/**
 * Full results as artefacts: a components job on an uploaded .npy map stores the label of every
 * cell and the cluster sizes, a shortest path stores the whole path; numpy loads each .npy download
 * unchanged and they equal scipy.ndimage.label, np.bincount, a valid path and numpy's own diffusion
 * of the same map (Python); labels on
 * periodic and procedural lattices partition the cells as the reference does; downloads honour
 * Range (a resumed download), ETag and gzip; a plan that stores no artefacts says so. Labels are
 * stored only when the job asks (`artefacts: ["labels"]`): without, no labels blob is kept (nor
 * counted in storage), the listing names it and its download is a 404 naming the option.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import { refBlocked, refComponents, refNeighbours } from '../lattice/reference.ts';
import { runCli } from '../cli/stack.ts';
import { json, startWorker, stopWorker, submit, waitForJob } from '../pipeline/support.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import type { CatalyticProcess } from '../support/processes.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let tenant: TestTenant;
let worker: CatalyticProcess;
const scratch = mkdtempSync(join(tmpdir(), 'catalytic-artefacts-'));

interface ArtefactList {
  data: Array<{ name: string; dtype: string; shape: number[]; size: number; sha256: string; links: { npy: string; raw: string } }>;
  stored: boolean;
  not_asked_for: string[];
  note?: string;
}

beforeAll(async () => {
  tenant = await createTestTenant(env.db, { plan: 'professional' });
  worker = await startWorker(env);
});

afterAll(async () => {
  await stopWorker(worker);
  rmSync(scratch, { recursive: true, force: true });
});

async function download(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const response = await fetch(`${api.url}${path}`, { headers: { ...tenant.headers, 'accept-encoding': 'identity', ...headers } });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

async function run(body: unknown, headers = tenant.headers): Promise<{ id: string; result: Record<string, unknown> }> {
  const job = await waitForJob(api, headers, (await submit(api, headers, body)).id);
  expect(job.status).toBe('completed');
  return { id: job.id, result: job.result! };
}

async function artefacts(jobId: string, headers = tenant.headers): Promise<ArtefactList> {
  const response = await api.request(`/api/jobs/${jobId}/artefacts`, { headers });
  expect(response.status).toBe(200);
  return json<ArtefactList>(response);
}

/** Labels partition the open cells exactly as the reference's clusters: open neighbours share a label, and there are as many labels as clusters. */
function checkLabels(lattice: Lattice, labels: Uint32Array, sizes: Uint32Array): void {
  const blocked = refBlocked(lattice);
  const reference = refComponents(lattice);
  let open = 0;
  for (let i = 0; i < lattice.cells; i++) {
    if (blocked[i]) {
      expect(labels[i]).toBe(0);
      continue;
    }
    open++;
    expect(labels[i]).toBeGreaterThan(0);
    for (const j of refNeighbours(lattice, i)) if (!blocked[j]) expect(labels[j]).toBe(labels[i]);
  }
  expect(sizes.length).toBe(reference.count);
  expect(Math.max(0, ...sizes)).toBe(reference.largest);
  expect(sizes.reduce((a, b) => a + b, 0)).toBe(open);
  const counted = new Uint32Array(sizes.length);
  for (const label of labels) if (label) counted[label - 1]!++;
  expect([...counted]).toEqual([...sizes]);
}

describe('job artefacts', () => {
  it('components, shortest_path and diffusion on an uploaded .npy: numpy loads every artefact and it equals scipy and numpy (Python)', async () => {
    const map = join(scratch, 'map.npy');
    execFileSync('/usr/bin/python3', ['-c', `import numpy as np; b = np.random.default_rng(11).random((45, 38)) < 0.35; b[:, 0] = False; b[-1, :] = False; np.save(${JSON.stringify(map)}, b)`]);
    const uploaded = await fetch(`${api.url}/api/lattices/upload`, {
      method: 'POST',
      headers: { ...tenant.headers, 'content-type': 'application/x-npy' },
      body: readFileSync(map),
    });
    expect(uploaded.status).toBe(201);
    const lattice = await json<{ id: string }>(uploaded);

    const components = await run({ type: 'components', lattice_id: lattice.id, artefacts: ['labels'] });
    const list = await artefacts(components.id);
    expect(list.stored).toBe(true);
    expect(list.not_asked_for).toEqual([]);
    expect(list.data.map((a) => [a.name, a.dtype, a.shape])).toEqual([
      ['component_sizes', '<u4', [components.result['count']]],
      ['labels', '<u4', [45, 38]],
    ]);
    expect(list.data.find((a) => a.name === 'labels')!.size).toBe(45 * 38 * 4);
    for (const artefact of list.data) {
      const file = await download(artefact.links.npy);
      expect(file.status).toBe(200);
      expect(Number(file.headers.get('content-length'))).toBe(file.body.length);
      writeFileSync(join(scratch, `${artefact.name}.npy`), file.body);
    }

    // A path long enough to matter: corner to corner.
    const path = await run({ type: 'shortest_path', lattice_id: lattice.id, params: { start: [0, 0], end: [44, 37] } });
    const pathList = await artefacts(path.id);
    // The map's first column and last row are open, so the corners are connected.
    expect(path.result['reachable']).toBe(true);
    expect(pathList.data.map((a) => [a.name, a.shape])).toEqual([['path', [(path.result['length'] as number) + 1, 2]]]);
    const raw = await download(pathList.data[0]!.links.raw);
    expect([...new Uint32Array(raw.body.buffer, raw.body.byteOffset, raw.body.length / 4)]).toEqual((path.result['path'] as number[][]).flat());
    writeFileSync(join(scratch, 'path.npy'), (await download(pathList.data[0]!.links.npy)).body);
    writeFileSync(join(scratch, 'path_ends.json'), JSON.stringify({ start: [0, 0], end: [44, 37] }));
    // Diffusion's whole field, with heat put on cells the map blocks too (they open for the job).
    const diffusionParams = { steps: 40, alpha: 0.2, sources: [{ cell: [3, 0], value: 0.5 }], initial: [{ cell: [30, 20], value: 100 }, { cell: [44, 37], value: 7 }] };
    const diffusion = await run({ type: 'diffusion', lattice_id: lattice.id, params: diffusionParams, artefacts: ['field'] });
    const fieldList = await artefacts(diffusion.id);
    expect(fieldList.data.map((a) => [a.name, a.dtype, a.shape])).toEqual([['field', '<f4', [45, 38]]]);
    expect(diffusion.result['artefacts']).toMatchObject({ stored: true, links: { field: fieldList.data[0]!.links.npy } });
    writeFileSync(join(scratch, 'field.npy'), (await download(fieldList.data[0]!.links.npy)).body);
    writeFileSync(join(scratch, 'diffusion.json'), JSON.stringify({ ...diffusionParams, boundary: 'open', min: diffusion.result['min'], max: diffusion.result['max'] }));
    // The CLI streams an artefact to disk through the SDK; it is the file the API serves.
    mkdirSync(join(scratch, 'cli'));
    const saved = join(scratch, 'cli', 'labels.npy');
    const cli = await runCli(['result', components.id, '--download', saved], { CATALYTIC_URL: api.url, CATALYTIC_API_KEY: tenant.apiKey, HOME: scratch });
    expect(cli.code).toBe(0);
    expect(cli.stderr).toContain('Saved labels');
    expect(readFileSync(saved).equals(readFileSync(join(scratch, 'labels.npy')))).toBe(true);
    const report = execFileSync('/usr/bin/python3', [join(import.meta.dirname, 'check_artefacts.py'), scratch], { encoding: 'utf8' });
    expect(JSON.parse(report)).toMatchObject({ cells: 45 * 38, components: components.result['count'], field_checked: true, problems: [] });
  });

  it('labels of periodic and procedural lattices in 1 to 4 dimensions partition the cells as the reference does', async () => {
    const specs = [
      { shape: [17, 23], boundary: 'periodic', obstacles: { density: 0.4, seed: 5 } },
      { shape: [6, 7, 8], boundary: 'open', obstacles: { density: 0.5, seed: 9 } },
      { shape: [5, 4, 6, 3], boundary: 'periodic', obstacles: { density: 0.55, seed: 2 } },
      { shape: [100], boundary: 'periodic', obstacles: { density: 0.2, seed: 4 } },
    ];
    for (const spec of specs) {
      const job = await run({ type: 'components', lattice: spec, artefacts: ['labels'] });
      const list = await artefacts(job.id);
      const raw = (name: string) => download(list.data.find((a) => a.name === name)!.links.raw);
      const labels = (await raw('labels')).body;
      const sizes = (await raw('component_sizes')).body;
      checkLabels(resolveLattice(spec), new Uint32Array(labels.buffer, labels.byteOffset, labels.length / 4), new Uint32Array(sizes.buffer, sizes.byteOffset, sizes.length / 4));
    }
  });

  it('downloads: Range and a resumed download, ETag, gzip, 416; a plan without artefacts says so', async () => {
    const job = await run({ type: 'components', lattice: { shape: [40, 50], obstacles: { density: 0.3, seed: 1 } }, artefacts: ['labels'] });
    const labels = (await artefacts(job.id)).data.find((a) => a.name === 'labels')!;
    const whole = await download(labels.links.npy);
    const etag = whole.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]{64}-npy"$/);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.body.length).toBe(128 + 40 * 50 * 4);

    const part = await download(labels.links.npy, { range: 'bytes=100-4199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-4199/${whole.body.length}`);
    expect(part.body.equals(whole.body.subarray(100, 4200))).toBe(true);
    // Resume after the first 3,000 bytes, on the same version (If-Range).
    const rest = await download(labels.links.npy, { range: 'bytes=3000-', 'if-range': etag });
    expect(rest.status).toBe(206);
    expect(Buffer.concat([whole.body.subarray(0, 3000), rest.body]).equals(whole.body)).toBe(true);
    const tail = await download(labels.links.npy, { range: 'bytes=-10' });
    expect(tail.body.equals(whole.body.subarray(-10))).toBe(true);
    const outside = await download(labels.links.npy, { range: `bytes=${whole.body.length}-` });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe(`bytes */${whole.body.length}`);
    expect((await download(labels.links.npy, { 'if-none-match': etag })).status).toBe(304);

    const zipped = await fetch(`${api.url}${labels.links.raw}`, { headers: { ...tenant.headers, 'accept-encoding': 'gzip' } });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    // fetch decodes gzip itself: the bytes are the raw array.
    expect(Buffer.from(await zipped.arrayBuffer()).equals(whole.body.subarray(128))).toBe(true);

    const free = await createTestTenant(env.db, { plan: 'free' });
    // Asking for labels on a plan that stores none is accepted; the listing says the plan stores none.
    const small = await run({ type: 'components', lattice: { shape: [10, 10] }, artefacts: ['labels'] }, free.headers);
    const none = await artefacts(small.id, free.headers);
    expect(none).toMatchObject({ data: [], stored: false });
    expect(none.note).toContain('summary only');
    expect((await api.request(`/api/jobs/${job.id}/artefacts`, { headers: free.headers })).status).toBe(404);
  });

  it('labels and sizes only when asked for: without, no blob or storage, the listing and the download say how to ask; unknown names are 400', async () => {
    const own = await createTestTenant(env.db, { plan: 'professional' });
    const lattice = { shape: [30, 20], obstacles: { density: 0.35, seed: 3 } };
    const plain = await run({ type: 'components', lattice }, own.headers);
    const list = await artefacts(plain.id, own.headers);
    expect(list.data).toEqual([]);
    expect(list).toMatchObject({ stored: true, not_asked_for: ['labels', 'component_sizes'] });
    expect(list.note).toContain('"artefacts": ["labels","component_sizes"]');
    expect(await env.db('blobs').where({ tenant_id: own.tenantId }).select('id')).toEqual([]);
    // The sizes alone, asked for: only their blob is kept, and only its bytes count against the tenant's storage.
    const sized = await run({ type: 'components', lattice, artefacts: ['component_sizes'] }, own.headers);
    expect((await artefacts(sized.id, own.headers)).data.map((a) => a.name)).toEqual(['component_sizes']);
    const count = sized.result['count'] as number;
    const blobs = await env.db('blobs').where({ tenant_id: own.tenantId }).select<Array<{ size: string }>>('size');
    expect(blobs.map((b) => Number(b.size))).toEqual([4 * count]);
    const usage = await json<{ month: { quotas: { storage_bytes: { used: number } } } }>(await api.request('/api/usage', { headers: own.headers }));
    expect(usage.month.quotas.storage_bytes.used).toBe(4 * count);
    const missing = await api.request(`/api/jobs/${plain.id}/artefacts/labels`, { headers: own.headers });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    const problem = await json<{ detail: string; option: string }>(missing);
    expect(problem.option).toBe('artefacts');
    expect(problem.detail).toContain('"artefacts": ["labels"]');
    mkdirSync(join(scratch, 'unasked'));
    const cli = await runCli(['result', plain.id, '--download', join(scratch, 'unasked', 'labels.npy')], { CATALYTIC_URL: api.url, CATALYTIC_API_KEY: own.apiKey, HOME: scratch });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('--artefacts labels');

    // Asked for (through the CLI), the same lattice's labels are stored and partition it as the reference does.
    const submitted = await runCli(['submit', 'components', '--shape', '30x20', '--density', '0.35', '--seed', '3', '--artefacts', 'labels', '--json'], {
      CATALYTIC_URL: api.url,
      CATALYTIC_API_KEY: own.apiKey,
      HOME: scratch,
    });
    expect(submitted.code, submitted.stderr).toBe(0);
    const asked = await run({ type: 'components', lattice, artefacts: ['labels'] }, own.headers);
    const viaCli = await waitForJob(api, own.headers, (JSON.parse(submitted.stdout) as { id: string }).id);
    expect(viaCli.status).toBe('completed');
    for (const id of [asked.id, viaCli.id]) {
      const askedList = await artefacts(id, own.headers);
      expect(askedList).toMatchObject({ not_asked_for: [] });
      const raw = async (name: string) => (await download(askedList.data.find((a) => a.name === name)!.links.raw, { authorization: own.headers.authorization! })).body;
      const labels = await raw('labels');
      const sizes = await raw('component_sizes');
      checkLabels(resolveLattice(lattice), new Uint32Array(labels.buffer, labels.byteOffset, labels.length / 4), new Uint32Array(sizes.buffer, sizes.byteOffset, sizes.length / 4));
    }

    // A batch's defaults ask for every job that lists none; a job's own (empty) list wins.
    const batch = await api.request('/api/batches', {
      headers: own.headers,
      body: { lattice, defaults: { type: 'components', artefacts: ['labels'] }, jobs: [{}, { artefacts: [] }] },
    });
    expect(batch.status).toBe(202);
    const batchJobs = (await json<{ job_ids: string[] }>(batch)).job_ids;
    const named = [];
    for (const id of batchJobs) {
      expect((await waitForJob(api, own.headers, id)).status).toBe('completed');
      named.push((await artefacts(id, own.headers)).data.map((a) => a.name));
    }
    expect(named).toEqual([['component_sizes', 'labels'], []]);

    // A name the type has not, or artefacts on a type that stores none: 400, nothing written.
    const jobsBefore = Number((await env.db('jobs').where({ tenant_id: own.tenantId }).count({ n: '*' }))[0]?.n);
    for (const body of [
      { type: 'components', lattice, artefacts: ['field'] },
      { type: 'shortest_path', lattice, params: { start: [0, 0], end: [1, 1] }, artefacts: ['labels'] },
      { type: 'percolation', lattice: { shape: [8, 8] }, params: { seed: 1 }, artefacts: ['labels'] },
    ]) {
      const refused = await api.request('/api/jobs', { method: 'POST', headers: { ...own.headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
    }
    expect(Number((await env.db('jobs').where({ tenant_id: own.tenantId }).count({ n: '*' }))[0]?.n)).toBe(jobsBefore);
  });
});
