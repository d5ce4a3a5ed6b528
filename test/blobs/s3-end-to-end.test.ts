/**
 * The S3 backend end to end, against a local s3rver: an obstacle map uploaded through the API and a
 * components job's label artefacts written by a worker process land as objects (no PostgreSQL
 * chunks), downloads (whole and a range) return the reference labels, usage counts the bytes, and
 * retention deletes the objects once nothing references them.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRetention } from '../../scheduler/retention.ts';
import { createBlobBackend } from '../../shared/blobs/index.ts';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import { refNeighbours } from '../lattice/reference.ts';
import { json, startWorker, stopWorker, submit, waitForJob } from '../pipeline/support.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import type { CatalyticProcess } from '../support/processes.ts';
import { startS3Server, type TestS3Server } from '../support/s3-server.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';
import { packBits } from './map-files.ts';

// Filled once s3rver listens, before the environment reads it (hooks run in order).
const s3Env: Record<string, string> = {};
let s3: TestS3Server;
beforeAll(async () => {
  s3 = await startS3Server();
  const c = s3.config;
  Object.assign(s3Env, {
    BLOB_BACKEND: 's3', S3_BUCKET: c.S3_BUCKET!, S3_ENDPOINT: c.S3_ENDPOINT!, S3_FORCE_PATH_STYLE: 'true', S3_PREFIX: c.S3_PREFIX,
    S3_ACCESS_KEY_ID: c.S3_ACCESS_KEY_ID!, S3_SECRET_ACCESS_KEY: c.S3_SECRET_ACCESS_KEY!, S3_PART_BYTES: String(c.S3_PART_BYTES),
  });
});
const env = useTestEnvironment(s3Env);
const api = useTestApi(env);
let tenant: TestTenant;
let worker: CatalyticProcess;

beforeAll(async () => {
  tenant = await createTestTenant(env.db, { plan: 'professional' });
  worker = await startWorker(env);
});
afterAll(async () => {
  if (worker) await stopWorker(worker);
  await s3?.close();
});

function referenceLabels(blocked: Uint8Array, lattice: ReturnType<typeof resolveLattice>): Uint32Array {
  const labels = new Uint32Array(lattice.cells);
  let next = 0;
  for (let first = 0; first < lattice.cells; first++) {
    if (blocked[first] || labels[first]) continue;
    labels[first] = ++next;
    const queue = [first];
    while (queue.length) {
      for (const cell of refNeighbours(lattice, queue.pop()!)) {
        if (!blocked[cell] && !labels[cell]) {
          labels[cell] = next;
          queue.push(cell);
        }
      }
    }
  }
  return labels;
}

describe('S3 blob backend, end to end', () => {
  it('stores an upload and a job’s labels as objects, serves them, counts them, and retention removes them', async () => {
    const shape = [100, 80];
    const blocked = new Uint8Array(100 * 80).map(() => (randomBytes(1)[0]! < 90 ? 1 : 0));
    const uploaded = await fetch(`${api.url}/api/lattices/upload?shape=100,80`, {
      method: 'POST', headers: { ...tenant.headers, 'content-type': 'application/octet-stream' }, body: packBits(blocked),
    });
    expect(uploaded.status).toBe(201);
    const lattice = await json<{ id: string; spec: { obstacles: { map: string } } }>(uploaded);
    const mapId = lattice.spec.obstacles.map;

    const job = await waitForJob(api, tenant.headers, (await submit(api, tenant.headers, { type: 'components', lattice_id: lattice.id, artefacts: ['labels'] })).id);
    expect(job.status).toBe('completed');
    const listed = await json<{ data: Array<{ name: string; size: number; links: { raw: string } }> }>(await api.request(`/api/jobs/${job.id}/artefacts`, { headers: tenant.headers }));
    const labels = listed.data.find((a) => a.name === 'labels')!;
    expect(labels.size).toBe(4 * 100 * 80);

    // Objects, not chunk rows: the map and both artefacts.
    const blobIds = (await env.db('blobs').where({ tenant_id: tenant.tenantId }).pluck('id')) as string[];
    expect(blobIds).toHaveLength(3);
    expect(blobIds).toContain(mapId);
    expect(await s3.keys()).toEqual(blobIds.map((id) => `${s3.config.S3_PREFIX}${tenant.tenantId}/${id}`).sort());
    expect(Number((await env.db('blob_chunks').count({ n: '*' }))[0]?.n)).toBe(0);

    // The uploaded bits are the obstacles; the reference walks the open lattice's neighbours.
    const expected = Buffer.from(referenceLabels(blocked, resolveLattice({ shape, boundary: 'open' })).buffer);
    const whole = Buffer.from(await (await fetch(`${api.url}${labels.links.raw}`, { headers: { ...tenant.headers, 'accept-encoding': 'identity' } })).arrayBuffer());
    expect(whole.equals(expected)).toBe(true);
    const part = await fetch(`${api.url}${labels.links.raw}`, { headers: { ...tenant.headers, 'accept-encoding': 'identity', range: 'bytes=1000-29999' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(expected.subarray(1000, 30_000))).toBe(true);

    const usage = await json<{ month: { quotas: { storage_bytes: { used: number } } } }>(await api.request('/api/usage', { headers: tenant.headers }));
    const sizes = (await env.db('blobs').where({ tenant_id: tenant.tenantId }).sum({ bytes: 'size' }))[0] as { bytes: string };
    expect(usage.month.quotas.storage_bytes.used).toBe(Number(sizes.bytes));

    // Nothing references them any more: the job and the lattice are gone.
    await env.db('jobs').where({ tenant_id: tenant.tenantId }).delete();
    await env.db('lattices').where({ tenant_id: tenant.tenantId }).delete();
    const blobs = createBlobBackend(env.config as Parameters<typeof createBlobBackend>[0], false);
    const report = await applyRetention(env.db, { blobs }).finally(() => blobs.close?.());
    expect(report.blobs).toBe(3);
    expect(await s3.keys()).toEqual([]);
    const after = await json<{ month: { quotas: { storage_bytes: { used: number } } } }>(await api.request('/api/usage', { headers: tenant.headers }));
    expect(after.month.quotas.storage_bytes.used).toBe(0);
  });
});
