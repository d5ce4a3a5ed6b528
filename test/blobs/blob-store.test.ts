/**
 * The PostgreSQL blob store: bytes stream in and out in 1 MiB chunks with their size and sha256,
 * ranges read back exactly, a refusal or a broken stream leaves nothing, row-level security hides
 * another tenant's blob, the storage quota holds, and retention removes only unreferenced blobs.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyRetention } from '../../scheduler/retention.ts';
import { BLOB_CHUNK_BYTES, type BlobStore, createBlobStore } from '../../shared/blobs/index.ts';
import type { Db } from '../../shared/db.ts';
import { getPlan, type Plan } from '../../shared/plans.ts';
import { useTestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';

const env = useTestEnvironment();
let appDb: Db;
let store: BlobStore;
let tenant: TestTenant;
let other: TestTenant;
let plan: Plan;

/** `bytes` handed over in uneven pieces, as a socket would. */
async function* pieces(bytes: Buffer, size = 300_001): AsyncIterable<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

async function blobCount(tenantId: string): Promise<{ blobs: number; chunks: number }> {
  const blobs = Number((await env.db('blobs').where({ tenant_id: tenantId }).count({ n: '*' }))[0]?.n);
  const chunks = Number((await env.db('blob_chunks').where({ tenant_id: tenantId }).count({ n: '*' }))[0]?.n);
  return { blobs, chunks };
}

beforeAll(async () => {
  appDb = env.runtime().appDb;
  store = createBlobStore(appDb, { BLOB_BACKEND: 'postgres' });
  tenant = await createTestTenant(env.db, { plan: 'starter' });
  other = await createTestTenant(env.db, { plan: 'starter' });
  plan = (await getPlan(env.db, 'starter'))!;
});

describe('blob store (PostgreSQL)', () => {
  it('stores a blob in 1 MiB chunks with its size and sha256, and reads back any range', async () => {
    const bytes = randomBytes(2 * BLOB_CHUNK_BYTES + 12_345);
    const row = await store.putAlone(tenant.tenantId, plan, { kind: 'obstacle_map', mediaType: 'application/octet-stream' }, pieces(bytes));
    expect(row).toMatchObject({ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), backend: 'postgres' });
    expect(await blobCount(tenant.tenantId)).toEqual({ blobs: 1, chunks: 3 });
    expect((await collect(store.read(row))).equals(bytes)).toBe(true);
    for (let k = 0; k < 20; k++) {
      const start = Math.floor(Math.random() * bytes.length);
      const end = start + Math.floor(Math.random() * (bytes.length - start));
      expect((await collect(store.read(row, { start, end }))).equals(bytes.subarray(start, end + 1))).toBe(true);
    }
    // Across a chunk boundary, and the last byte alone.
    expect((await collect(store.read(row, { start: BLOB_CHUNK_BYTES - 2, end: BLOB_CHUNK_BYTES + 1 }))).equals(bytes.subarray(BLOB_CHUNK_BYTES - 2, BLOB_CHUNK_BYTES + 2))).toBe(true);
    expect((await collect(store.read(row, { start: bytes.length - 1, end: bytes.length - 1 }))).equals(bytes.subarray(-1))).toBe(true);
    expect(await store.usedBytes(tenant.tenantId)).toBe(bytes.length);

    // Another tenant sees nothing of it, through its own transactions and row-level security.
    expect(await store.find(other.tenantId, row.id)).toBeUndefined();
    expect(await store.find(tenant.tenantId, row.id)).toMatchObject({ id: row.id });
    expect(await store.usedBytes(other.tenantId)).toBe(0);
  });

  it('leaves nothing behind when the stream breaks or the quota is passed', async () => {
    const before = await blobCount(other.tenantId);
    async function* broken(): AsyncIterable<Uint8Array> {
      yield randomBytes(BLOB_CHUNK_BYTES + 10);
      throw new Error('connection reset');
    }
    await expect(store.putAlone(other.tenantId, plan, { kind: 'artefact', mediaType: 'application/octet-stream' }, broken())).rejects.toThrow('connection reset');
    expect(await blobCount(other.tenantId)).toEqual(before);

    const tiny: Plan = { ...plan, max_storage_bytes: 3 * BLOB_CHUNK_BYTES };
    await store.putAlone(other.tenantId, tiny, { kind: 'artefact', mediaType: 'application/octet-stream' }, pieces(randomBytes(2 * BLOB_CHUNK_BYTES)));
    const refused = store.putAlone(other.tenantId, tiny, { kind: 'artefact', mediaType: 'application/octet-stream' }, pieces(randomBytes(BLOB_CHUNK_BYTES + 1)));
    await expect(refused).rejects.toMatchObject({ code: 'plan_limit_exceeded', status: 402, extra: { limit: 'max_storage_bytes' } });
    expect(await blobCount(other.tenantId)).toEqual({ blobs: before.blobs + 1, chunks: before.chunks + 2 });
    // Exactly the remaining bytes still fit.
    await store.putAlone(other.tenantId, tiny, { kind: 'artefact', mediaType: 'application/octet-stream' }, pieces(randomBytes(BLOB_CHUNK_BYTES)));
    expect(await store.usedBytes(other.tenantId)).toBe(3 * BLOB_CHUNK_BYTES);
  });

  it('retention removes blobs that nothing references, and keeps referenced ones', async () => {
    const kept = await store.putAlone(tenant.tenantId, plan, { kind: 'obstacle_map', mediaType: 'application/octet-stream' }, pieces(randomBytes(100)));
    // A lattice whose current version names the map (the version alone would go: nothing holds it).
    const latticeId = randomUUID();
    const versionId = randomUUID();
    await env.db.transaction(async (trx) => {
      await trx('lattices').insert({ id: latticeId, tenant_id: tenant.tenantId, version_id: versionId, dimensions: 2, cells: 100 });
      await trx('lattice_versions').insert({
        id: versionId, tenant_id: tenant.tenantId, lattice_id: latticeId, version: 1, spec: { shape: [10, 10], boundary: 'open', obstacles: { map: kept.id } }, dimensions: 2, cells: 100,
      });
    });
    const report = await applyRetention(env.db);
    // Every blob of the earlier tests is unreferenced; the referenced map stays with its chunk.
    expect(report.blobs).toBe(3);
    expect(await env.db('blobs').pluck('id')).toEqual([kept.id]);
    expect(await env.db('blob_chunks').pluck('blob_id')).toEqual([kept.id]);
    expect(await store.usedBytes(tenant.tenantId)).toBe(100);
  });
});
