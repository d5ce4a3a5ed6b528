/**
 * Obstacle maps uploaded as PNG, .npy and packed bits: each becomes a lattice of its shape whose
 * cells are blocked exactly where the file says (checked cell by cell against the reference), the
 * kernels run on it in a real worker and agree with the reference implementations, and every bad
 * upload — a wrong .npy header, a PNG bomb, a truncated body, bytes past the end — gets a clear 4xx
 * and stores nothing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import type { Lattice } from '../../shared/lattice/types.ts';
import { refComponents, refIndex, refPathProblem, refShortestPathLength } from '../lattice/reference.ts';
import { runCli } from '../cli/stack.ts';
import { json, startWorker, stopWorker, submit, waitForJob } from '../pipeline/support.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import type { CatalyticProcess } from '../support/processes.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { encodeNpy, encodePng, packBits, pngBomb } from './map-files.ts';

const env = useTestEnvironment();
const api = useTestApi(env);
let tenant: TestTenant;
let worker: CatalyticProcess;
const scratch = mkdtempSync(join(tmpdir(), 'catalytic-maps-'));

interface LatticeJson {
  id: string;
  shape: number[];
  cells: number;
  spec: { shape: number[]; boundary: string; obstacles: { map: string } };
}

beforeAll(async () => {
  tenant = await createTestTenant(env.db, { plan: 'professional' });
  worker = await startWorker(env);
});

afterAll(async () => {
  await stopWorker(worker);
  rmSync(scratch, { recursive: true, force: true });
});

function upload(body: Buffer, contentType: string, query = ''): Promise<Response> {
  return fetch(`${api.url}/api/lattices/upload${query}`, { method: 'POST', headers: { ...tenant.headers, 'content-type': contentType }, body });
}

async function stored(): Promise<{ blobs: number; chunks: number; lattices: number }> {
  const count = async (table: string): Promise<number> => Number((await env.db(table).where({ tenant_id: tenant.tenantId }).count({ n: '*' }))[0]?.n);
  return { blobs: await count('blobs'), chunks: await count('blob_chunks'), lattices: await count('lattices') };
}

/** The kernels' lattice for an uploaded map, with the bits as stored. */
async function latticeOf(created: LatticeJson): Promise<{ lattice: Lattice; bits: Buffer }> {
  const chunks = (await env.db('blob_chunks').where({ blob_id: created.spec.obstacles.map }).orderBy('chunk_index').pluck('data')) as Buffer[];
  const bits = Buffer.concat(chunks);
  return { lattice: resolveLattice(created.spec, new Uint8Array(bits)), bits };
}

function randomBlocked(cells: number, density: number): Uint8Array {
  return Uint8Array.from({ length: cells }, () => (Math.random() < density ? 1 : 0));
}

/** Runs components and a shortest path on a stored lattice and checks both against the reference. */
async function checkKernels(latticeId: string, lattice: Lattice): Promise<void> {
  const components = await waitForJob(api, tenant.headers, (await submit(api, tenant.headers, { type: 'components', lattice_id: latticeId })).id);
  expect(components.status).toBe('completed');
  expect(components.result).toMatchObject(refComponents(lattice));

  const start = lattice.shape.map(() => 0);
  const end = lattice.shape.map((side) => side - 1);
  const path = await waitForJob(api, tenant.headers, (await submit(api, tenant.headers, { type: 'shortest_path', lattice_id: latticeId, params: { start, end } })).id);
  expect(path.status).toBe('completed');
  const s = refIndex(lattice, start);
  const e = refIndex(lattice, end);
  const length = refShortestPathLength(lattice, s, e);
  expect(path.result).toMatchObject({ reachable: length !== null });
  if (length !== null) {
    expect(path.result!['length']).toBe(length);
    expect(refPathProblem(lattice, path.result!['path'] as number[][], s, e)).toBeNull();
  }
}

describe('uploaded obstacle maps', () => {
  it('a PNG: dark pixels (luminance below 128) are blocked, transparent ones open; the kernels agree with the reference', async () => {
    const width = 37;
    const height = 23;
    const light = Uint8Array.from({ length: width * height }, () => Math.floor(Math.random() * 256));
    const alpha = Uint8Array.from({ length: width * height }, () => (Math.random() < 0.1 ? Math.floor(Math.random() * 128) : 255));
    const rows = Array.from({ length: height }, (_, y) => {
      const row = new Uint8Array(width * 4);
      for (let x = 0; x < width; x++) {
        const v = light[y * width + x]!;
        // Grey pixels tinted a little: luminance stays within 1 of v.
        row.set([v, v, v, alpha[y * width + x]!], x * 4);
      }
      return row;
    });
    const expected = Uint8Array.from({ length: width * height }, (_, i) => (alpha[i]! >= 128 && light[i]! < 128 ? 1 : 0));
    const response = await upload(encodePng(rows, width, 6, [0, 1, 2, 3, 4], 3), 'image/png', '?name=maze');
    expect(response.status).toBe(201);
    const created = await json<LatticeJson>(response);
    expect(created).toMatchObject({ shape: [height, width], cells: width * height, spec: { shape: [height, width], boundary: 'open' } });
    const { lattice, bits } = await latticeOf(created);
    expect(bits.equals(packBits(expected))).toBe(true);
    await checkKernels(created.id, lattice);

    // A greyscale PNG with every filter, through the Content-Type alone.
    const grey = Array.from({ length: height }, (_, y) => light.subarray(y * width, (y + 1) * width));
    const second = await json<LatticeJson>(await upload(encodePng(grey, width, 0, [4, 3, 2, 1, 0]), 'image/png'));
    expect((await latticeOf(second)).bits.equals(packBits(Uint8Array.from(light, (v) => (v < 128 ? 1 : 0))))).toBe(true);
  });

  it('an .npy written by numpy (bool, 3-D) and one of uint8; the kernels agree with the reference', async () => {
    const file = join(scratch, 'maze.npy');
    execFileSync('/usr/bin/python3', ['-c', `import numpy as np; r = np.random.default_rng(7); np.save(${JSON.stringify(file)}, r.random((6, 7, 9)) < 0.3)`]);
    const bytes = readFileSync(file);
    const response = await upload(bytes, 'application/x-npy', '?boundary=periodic');
    expect(response.status).toBe(201);
    const created = await json<LatticeJson>(response);
    expect(created).toMatchObject({ shape: [6, 7, 9], spec: { boundary: 'periodic' } });
    const { lattice, bits } = await latticeOf(created);
    // numpy's own bytes after the header are the cells, one byte each.
    expect(bits.equals(packBits(bytes.subarray(bytes.length - 6 * 7 * 9)))).toBe(true);
    await checkKernels(created.id, lattice);

    const cells = randomBlocked(40 * 30, 0.35).map((b) => (b ? 1 + Math.floor(Math.random() * 255) : 0));
    const uint8 = await json<LatticeJson>(await upload(encodeNpy([40, 30], cells, '|u1'), 'application/octet-stream', '?format=npy'));
    const uint8Lattice = await latticeOf(uint8);
    expect(uint8Lattice.bits.equals(packBits(cells.map((v) => (v ? 1 : 0))))).toBe(true);
    await checkKernels(uint8.id, uint8Lattice.lattice);
  });

  it('packed bits with their shape', async () => {
    const blocked = randomBlocked(13 * 11 * 3, 0.3);
    const response = await upload(packBits(blocked), 'application/octet-stream', '?shape=13,11,3');
    expect(response.status).toBe(201);
    const created = await json<LatticeJson>(response);
    const { lattice } = await latticeOf(created);
    expect(Array.from({ length: lattice.cells }, (_, i) => (resolveLatticeBlocked(lattice, i) ? 1 : 0))).toEqual([...blocked]);
    await checkKernels(created.id, lattice);

    // A stored lattice may name the map again, only with the map's own shape.
    const again = await api.request('/api/lattices', { body: { shape: [13, 11, 3], obstacles: { map: created.spec.obstacles.map } }, headers: tenant.headers });
    expect(again.status).toBe(201);
    const wrong = await api.request('/api/lattices', { body: { shape: [11, 13, 3], obstacles: { map: created.spec.obstacles.map } }, headers: tenant.headers });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ code: 'lattice_invalid', field: 'body.obstacles.map' });
    const inline = await api.request('/api/jobs', { body: { type: 'components', lattice: created.spec }, headers: tenant.headers });
    expect(inline.status).toBe(400);
    expect(await inline.json()).toMatchObject({ code: 'lattice_invalid', field: 'body.lattice.obstacles.map' });
  });

  it('catalytic lattice upload streams a file from disk through the SDK', async () => {
    const width = 19;
    const light = Uint8Array.from({ length: width * 12 }, () => Math.floor(Math.random() * 256));
    const file = join(scratch, 'maze.png');
    writeFileSync(file, encodePng(Array.from({ length: 12 }, (_, y) => light.subarray(y * width, (y + 1) * width)), width, 0, [1, 4]));
    const run = await runCli(['lattice', 'upload', file, '--name', 'maze', '--json'], { CATALYTIC_URL: api.url, CATALYTIC_API_KEY: tenant.apiKey, HOME: scratch });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const created = JSON.parse(run.stdout) as LatticeJson & { name: string };
    expect(created).toMatchObject({ name: 'maze', shape: [12, width] });
    expect((await latticeOf(created)).bits.equals(packBits(Uint8Array.from(light, (v) => (v < 128 ? 1 : 0))))).toBe(true);

    const refused = await runCli(['lattice', 'upload', file, '--format', 'npy'], { CATALYTIC_URL: api.url, CATALYTIC_API_KEY: tenant.apiKey, HOME: scratch });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('.npy');
  });

  it('refuses bad uploads with a clear 4xx and stores nothing', async () => {
    const before = await stored();
    const cells = randomBlocked(8 * 8, 0.3);
    const png = encodePng(Array.from({ length: 8 }, () => new Uint8Array(8).fill(200)), 8, 0);
    const cases: Array<[string, Promise<Response>, number, string]> = [
      ['npy magic', upload(Buffer.concat([Buffer.from('NUMPY!'), encodeNpy([8, 8], cells).subarray(6)]), 'application/x-npy'), 400, 'upload_invalid'],
      ['npy float dtype', upload(encodeNpy([8, 8], new Uint8Array(8 * 8 * 8), '<f8'), 'application/x-npy'), 400, 'upload_invalid'],
      ['npy fortran order', upload(encodeNpy([8, 8], cells, '|b1', true), 'application/x-npy'), 400, 'upload_invalid'],
      ['npy bool of 2', upload(encodeNpy([8, 8], cells.map(() => 2)), 'application/x-npy'), 400, 'upload_invalid'],
      ['npy truncated', upload(encodeNpy([8, 8], cells).subarray(0, 128 + 30), 'application/x-npy'), 400, 'upload_truncated'],
      ['npy too long', upload(Buffer.concat([encodeNpy([8, 8], cells), Buffer.alloc(3)]), 'application/x-npy'), 400, 'upload_invalid'],
      ['npy header cut', upload(encodeNpy([8, 8], cells).subarray(0, 40), 'application/x-npy'), 400, 'upload_truncated'],
      ['png bomb over the plan', upload(pngBomb(60_000, 60_000), 'image/png'), 402, 'plan_limit_exceeded'],
      ['png bomb over 2^32 cells', upload(pngBomb(100_000, 100_000), 'image/png'), 400, 'too_many_cells'],
      ['png truncated', upload(png.subarray(0, png.length - 20), 'image/png'), 400, 'upload_truncated'],
      ['png bad crc', upload(Buffer.concat([png.subarray(0, 20), Buffer.from([png[20]! ^ 1]), png.subarray(21)]), 'image/png'), 400, 'upload_invalid'],
      ['not a png', upload(Buffer.from('GIF89a……'), 'image/png'), 400, 'upload_invalid'],
      ['bits without shape', upload(packBits(cells), 'application/octet-stream'), 400, 'upload_invalid'],
      ['bits short', upload(packBits(cells).subarray(0, 7), 'application/octet-stream', '?shape=8,8'), 400, 'upload_truncated'],
      ['bits long', upload(Buffer.concat([packBits(cells), Buffer.alloc(1)]), 'application/octet-stream', '?shape=8,8'), 400, 'upload_invalid'],
      ['bits past the cells', upload(Buffer.from([0, 0xff]), 'application/octet-stream', '?shape=3,3'), 400, 'upload_invalid'],
      ['a side of 0', upload(Buffer.alloc(1), 'application/octet-stream', '?shape=8,0'), 400, 'validation_failed'],
      ['media type', upload(Buffer.alloc(8), 'text/plain'), 415, 'unsupported_media_type'],
    ];
    for (const [name, pending, status, code] of cases) {
      const response = await pending;
      const problem = (await response.json()) as { code: string; detail: string };
      expect({ name, status: response.status, code: problem.code }).toEqual({ name, status, code });
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(problem.detail.length).toBeGreaterThan(10);
    }
    // A declared length over the plan's upload limit is refused before a byte is read.
    const free = await createTestTenant(env.db, { plan: 'free' });
    const tooLong = await rawUpload(free.headers.authorization, 'image/png', 50_000_000, png);
    expect(tooLong.status).toBe(413);
    // A client that stops half-way through its declared body stores nothing either.
    await rawUpload(tenant.headers.authorization, 'application/octet-stream', 1000, Buffer.alloc(100), '?shape=80,100', true);
    expect(await stored()).toEqual(before);
  });
});

function resolveLatticeBlocked(lattice: Lattice, index: number): boolean {
  const bits = (lattice.obstacles as { bits: Uint8Array }).bits;
  return ((bits[index >> 3]! >> (index & 7)) & 1) === 1;
}

/** An upload over a raw connection: a declared Content-Length, then `body`, then (if `abort`) the socket is cut. */
function rawUpload(authorization: string, contentType: string, length: number, body: Buffer, query = '', abort = false): Promise<{ status: number }> {
  return new Promise((resolve) => {
    const req = httpRequest(`${api.url}/api/lattices/upload${query}`, {
      method: 'POST',
      headers: { authorization, 'content-type': contentType, 'content-length': String(length) },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', () => resolve({ status: 0 }));
    req.write(body);
    if (abort) setTimeout(() => req.destroy(), 200);
  });
}
