/**
 * The blob-store contract every backend keeps, run against each by its own test file: bytes stream
 * in and out with their size and sha256, ranges read back exactly, a refusal, a broken stream or a
 * rolled-back transaction leaves nothing, row-level security hides another tenant's blob, the
 * storage quota holds, and retention removes only unreferenced blobs, bytes and all.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { applyRetention } from '../../scheduler/retention.ts';
import { BLOB_CHUNK_BYTES, type BlobConfig, type BlobStore, createBlobBackend, createBlobStore } from '../../shared/blobs/index.ts';
import { withTenant, type Db } from '../../shared/db.ts';
import { getPlan, type Plan } from '../../shared/plans.ts';
import type { TestEnvironment } from '../support/context.ts';
import { createTestTenant, type TestTenant } from '../support/tenants.ts';

export interface BackendUnderTest {
  name: string;
  config: () => BlobConfig;
  /** Units of stored bytes the backend holds for a tenant (PostgreSQL: chunk rows; S3: objects). */
  units: (env: TestEnvironment, tenantId: string) => Promise<number>;
  /** Units one blob of `bytes` takes. */
  unitsOf: (bytes: number) => number;
}

/** `bytes` handed over in uneven pieces, as a socket would. */
async function* pieces(bytes: Buffer, size = 300_001): AsyncIterable<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

export function blobStoreContract(env: TestEnvironment, backend: BackendUnderTest): void {
  let appDb: Db;
  let store: BlobStore;
  let tenant: TestTenant;
  let other: TestTenant;
  let plan: Plan;

  async function stored(tenantId: string): Promise<{ blobs: number; units: number }> {
    const blobs = Number((await env.db('blobs').where({ tenant_id: tenantId }).count({ n: '*' }))[0]?.n);
    return { blobs, units: await backend.units(env, tenantId) };
  }

  beforeAll(async () => {
    appDb = env.runtime().appDb;
    store = createBlobStore(appDb, backend.config());
    tenant = await createTestTenant(env.db, { plan: 'starter' });
    other = await createTestTenant(env.db, { plan: 'starter' });
    plan = (await getPlan(env.db, 'starter'))!;
    return () => store.close();
  });

  describe(`blob store (${backend.name})`, () => {
    it('stores a blob with its size and sha256, and reads back any range', async () => {
      // Past two 5 MiB parts, so an S3 upload takes three.
      const bytes = randomBytes(10 * BLOB_CHUNK_BYTES + 12_345);
      const row = await store.putAlone(tenant.tenantId, plan, { kind: 'obstacle_map', mediaType: 'application/octet-stream' }, pieces(bytes));
      expect(row).toMatchObject({ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), backend: backend.config().BLOB_BACKEND });
      expect(await stored(tenant.tenantId)).toEqual({ blobs: 1, units: backend.unitsOf(bytes.length) });
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

      // A small blob (one request to S3) and an empty one.
      const small = randomBytes(1000);
      const smallRow = await store.putAlone(tenant.tenantId, plan, { kind: 'artefact', mediaType: 'application/octet-stream' }, pieces(small, 77));
      expect((await collect(store.read(smallRow, { start: 10, end: 20 }))).equals(small.subarray(10, 21))).toBe(true);
      const empty = await store.putAlone(tenant.tenantId, plan, { kind: 'artefact', mediaType: 'application/octet-stream' }, pieces(Buffer.alloc(0)));
      expect(empty.size).toBe(0);
      expect((await collect(store.read(empty))).length).toBe(0);

      // Another tenant sees nothing of it, through its own transactions and row-level security.
      expect(await store.find(other.tenantId, row.id)).toBeUndefined();
      expect(await store.find(tenant.tenantId, row.id)).toMatchObject({ id: row.id });
      expect(await store.usedBytes(other.tenantId)).toBe(0);
    });

    it('leaves nothing behind when the stream breaks, the quota is passed or the transaction rolls back', async () => {
      const before = await stored(other.tenantId);
      async function* broken(): AsyncIterable<Uint8Array> {
        yield randomBytes(6 * BLOB_CHUNK_BYTES + 10);
        throw new Error('connection reset');
      }
      await expect(store.putAlone(other.tenantId, plan, { kind: 'artefact', mediaType: 'application/octet-stream' }, broken())).rejects.toThrow('connection reset');
      expect(await stored(other.tenantId)).toEqual(before);

      // Stored in full, then the transaction that would reference it fails.
      await expect(
        withTenant(appDb, other.tenantId, async (trx) => {
          await store.put(trx, other.tenantId, plan, { kind: 'artefact', mediaType: 'application/octet-stream' }, pieces(randomBytes(6 * BLOB_CHUNK_BYTES)));
          throw new Error('the reference could not be written');
        }),
      ).rejects.toThrow('the reference could not be written');
      await vi.waitFor(async () => expect(await stored(other.tenantId)).toEqual(before), { timeout: 10_000, interval: 100 });

      const tiny: Plan = { ...plan, max_storage_bytes: 3 * BLOB_CHUNK_BYTES };
      await store.putAlone(other.tenantId, tiny, { kind: 'artefact', mediaType: 'application/octet-stream' }, pieces(randomBytes(2 * BLOB_CHUNK_BYTES)));
      const refused = store.putAlone(other.tenantId, tiny, { kind: 'artefact', mediaType: 'application/octet-stream' }, pieces(randomBytes(BLOB_CHUNK_BYTES + 1)));
      await expect(refused).rejects.toMatchObject({ code: 'plan_limit_exceeded', status: 402, extra: { limit: 'max_storage_bytes' } });
      expect(await stored(other.tenantId)).toEqual({ blobs: before.blobs + 1, units: before.units + backend.unitsOf(2 * BLOB_CHUNK_BYTES) });
      // Exactly the remaining bytes still fit.
      await store.putAlone(other.tenantId, tiny, { kind: 'artefact', mediaType: 'application/octet-stream' }, pieces(randomBytes(BLOB_CHUNK_BYTES)));
      expect(await store.usedBytes(other.tenantId)).toBe(3 * BLOB_CHUNK_BYTES);
    });

    it('retention removes blobs that nothing references, bytes and all, and keeps referenced ones', async () => {
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
      const blobs = createBlobBackend(backend.config(), false);
      // Batches of 2: more than one delete statement's worth.
      const report = await applyRetention(env.db, { blobs, batchSize: 2 }).finally(() => blobs.close?.());
      // Every blob of the earlier tests is unreferenced; the referenced map stays with its bytes.
      expect(report.blobs).toBe(5);
      expect(await env.db('blobs').pluck('id')).toEqual([kept.id]);
      expect(await stored(tenant.tenantId)).toEqual({ blobs: 1, units: backend.unitsOf(100) });
      expect(await stored(other.tenantId)).toEqual({ blobs: 0, units: 0 });
      expect(await store.usedBytes(tenant.tenantId)).toBe(100);
    });
  });
}
