/**
 * The blob store (docs/architecture.md › Blobs): uploads and results streamed in and out, never a
 * whole blob in memory. A blob's row and its bytes are written in one transaction, checked against
 * the tenant's storage quota as the bytes arrive; a refusal or a broken stream rolls it all back.
 */
import { createHash } from 'node:crypto';
import { withTenant, type Db, type Knex } from '../db.ts';
import { AppError } from '../errors.ts';
import type { Plan } from '../plans.ts';
import { BLOB_CHUNK_BYTES, type BlobBackend, type BlobRef, type ByteRange } from './blob-backend.ts';

export type BlobKind = 'obstacle_map' | 'artefact';

export interface BlobRow {
  id: string;
  tenant_id: string;
  kind: BlobKind;
  media_type: string;
  backend: string;
  size: number;
  sha256: string | null;
  meta: Record<string, unknown>;
  created_at: Date;
}

export interface NewBlob {
  kind: BlobKind;
  mediaType: string;
  meta?: Record<string, unknown>;
}

/** Bytes of blobs the tenant keeps (its storage use). */
export async function storedBytes(trx: Knex, tenantId: string): Promise<number> {
  const row = (await trx('blobs').where({ tenant_id: tenantId }).sum({ bytes: 'size' }).first()) as { bytes: string | number | null } | undefined;
  return Number(row?.bytes ?? 0);
}

/** The refusal of bytes past the plan's storage quota. */
export function storageExceeded(plan: Plan, used: number, value: number): AppError {
  return new AppError('plan_limit_exceeded', `The ${plan.name} plan allows ${plan.max_storage_bytes} bytes of storage`, {
    extra: { limit: 'max_storage_bytes', limit_value: plan.max_storage_bytes, used, value, plan: plan.code },
  });
}

/**
 * Re-chunks `source` into {@link BLOB_CHUNK_BYTES} pieces while counting and hashing it; throws
 * `tooLarge()` as soon as the bytes pass `maxBytes`, before storing the chunk that does.
 */
async function* metered(
  source: AsyncIterable<Uint8Array>,
  tally: { size: number; hash: ReturnType<typeof createHash> },
  maxBytes: number,
  tooLarge: (size: number) => Error,
): AsyncIterable<Buffer> {
  let chunk = Buffer.allocUnsafe(BLOB_CHUNK_BYTES);
  let filled = 0;
  for await (const piece of source) {
    tally.size += piece.byteLength;
    if (maxBytes >= 0 && tally.size > maxBytes) throw tooLarge(tally.size);
    tally.hash.update(piece);
    let at = 0;
    while (at < piece.byteLength) {
      const n = Math.min(BLOB_CHUNK_BYTES - filled, piece.byteLength - at);
      chunk.set(piece.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === BLOB_CHUNK_BYTES) {
        yield chunk;
        chunk = Buffer.allocUnsafe(BLOB_CHUNK_BYTES);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield chunk.subarray(0, filled);
}

export class BlobStore {
  constructor(
    private readonly db: Db,
    readonly backend: BlobBackend,
  ) {}

  /**
   * Stores a blob from `source` in `trx` (a tenant transaction), within the plan's storage quota:
   * the tenant's writes are serialised by an advisory lock so two uploads cannot both take the
   * last free bytes. Whatever `source` throws (a refused format, a truncated body) rolls back the
   * caller's transaction and with it every byte written.
   */
  async put(trx: Knex.Transaction, tenantId: string, plan: Plan, blob: NewBlob, source: AsyncIterable<Uint8Array>): Promise<BlobRow> {
    let maxBytes = -1;
    let used = 0;
    if (plan.max_storage_bytes >= 0) {
      await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`catalytic:blobs:${tenantId}`]);
      used = await storedBytes(trx, tenantId);
      maxBytes = Math.max(0, plan.max_storage_bytes - used);
    }
    const [row] = (await trx('blobs')
      .insert({ tenant_id: tenantId, kind: blob.kind, media_type: blob.mediaType, backend: this.backend.name, meta: blob.meta ?? {} })
      .returning('id')) as Array<{ id: string }>;
    const ref = { tenantId, id: row!.id };
    const tally = { size: 0, hash: createHash('sha256') };
    await this.backend.write(trx, ref, metered(source, tally, maxBytes, (size) => storageExceeded(plan, used, used + size)));
    const sha256 = tally.hash.digest('hex');
    const [stored] = (await trx('blobs').where({ id: ref.id }).update({ size: tally.size, sha256 }).returning('*')) as BlobRow[];
    return stored!;
  }

  /** {@link put} in a transaction of its own. */
  putAlone(tenantId: string, plan: Plan, blob: NewBlob, source: AsyncIterable<Uint8Array>): Promise<BlobRow> {
    return withTenant(this.db, tenantId, (trx) => this.put(trx, tenantId, plan, blob, source));
  }

  /** A tenant's blob, or undefined (another tenant's blob is as absent as a missing one). */
  async find(tenantId: string, id: string, db: Knex = this.db): Promise<BlobRow | undefined> {
    return withTenant(db as Db, tenantId, (trx) => trx('blobs').where({ tenant_id: tenantId, id }).first<BlobRow | undefined>());
  }

  /** A tenant's blob, read on a pool that sees every tenant (workers, scheduler), filtered by tenant in SQL. */
  async findOwned(tenantId: string, id: string): Promise<BlobRow | undefined> {
    return this.db('blobs').where({ tenant_id: tenantId, id }).first<BlobRow | undefined>();
  }

  /** The bytes of a stored blob (all of it, or `range`), streamed a chunk at a time. */
  read(row: Pick<BlobRow, 'tenant_id' | 'id' | 'size'>, range?: ByteRange): AsyncIterable<Buffer> {
    const ref: BlobRef = { tenantId: row.tenant_id, id: row.id };
    if (row.size === 0) return (async function* () {})();
    return this.backend.read(this.db, ref, range ?? { start: 0, end: row.size - 1 });
  }

  /** Bytes the tenant keeps. */
  usedBytes(tenantId: string): Promise<number> {
    return withTenant(this.db, tenantId, (trx) => storedBytes(trx, tenantId));
  }

  async close(): Promise<void> {
    await this.backend.close?.();
  }
}
