/**
 * Labels past the storage quota: a components job whose 4 MiB of labels stream in 1 MiB chunks
 * against 3 MiB of storage is refused after three chunks; the job keeps its summary and no byte
 * of its artefacts stays stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startWorker, stopWorker, submit, waitForJob } from '../pipeline/support.ts';
import { useTestApi } from '../support/api.ts';
import { useTestEnvironment } from '../support/context.ts';
import type { CatalyticProcess } from '../support/processes.ts';
import { createTestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();
// Before the API starts: it caches the plans it reads.
beforeAll(async () => {
  await env.db('plans').where({ code: 'starter' }).update({ max_storage_bytes: 3 * 2 ** 20, max_side: -1, max_cells: -1 });
});
const api = useTestApi(env);
let worker: CatalyticProcess;
beforeAll(async () => {
  worker = await startWorker(env);
});
afterAll(async () => {
  if (worker) await stopWorker(worker);
});

describe('artefacts and the storage quota', () => {
  it('labels past the storage quota: the job keeps its summary, and no byte of the labels stays stored', async () => {
    const tenant = await createTestTenant(env.db, { plan: 'starter' });
    const job = await waitForJob(api, tenant.headers, (await submit(api, tenant.headers, { type: 'components', lattice: { shape: [1024, 1024], obstacles: { density: 0.3, seed: 5 } }, artefacts: ['labels'] })).id);
    expect(job.status).toBe('completed');
    expect(job.result!['count']).toBeGreaterThan(0);
    const listed = await json<{ data: unknown[] }>(await api.request(`/api/jobs/${job.id}/artefacts`, { headers: tenant.headers }));
    expect(listed.data).toEqual([]);
    const count = async (table: string): Promise<number> => Number((await env.db(table).where({ tenant_id: tenant.tenantId }).count({ n: '*' }))[0]?.n);
    expect(await count('blobs')).toBe(0);
    expect(await count('blob_chunks')).toBe(0);
  });
});
