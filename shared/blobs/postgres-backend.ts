/**
 * Blob bytes in PostgreSQL: one `blob_chunks` row per 1 MiB chunk, keyed by blob and chunk index,
 * written in the transaction that writes the blob's row and read back a few chunks per query, so
 * neither side ever holds more than a few chunks of a blob in memory.
 */
import { readAsTenant, sql, type Db, type Knex } from '../db.ts';
import { BLOB_CHUNK_BYTES, type BlobBackend, type BlobRef, type ByteRange } from './blob-backend.ts';

/** Chunks fetched per query when reading: 4 MiB in flight at most. */
const CHUNKS_PER_READ = 4;

export class PostgresBlobBackend implements BlobBackend {
  readonly name = 'postgres' as const;

  /**
   * @param asTenant - read as the blob's tenant under row-level security (the API's pool); without
   *   it, reads filter by tenant in SQL on a pool that sees every tenant (workers, scheduler)
   */
  constructor(private readonly asTenant = true) {}

  async write(trx: Knex.Transaction, ref: BlobRef, chunks: AsyncIterable<Buffer>): Promise<void> {
    let index = 0;
    for await (const data of chunks) {
      await trx.raw('insert into blob_chunks (blob_id, chunk_index, tenant_id, data) values (?, ?, ?, ?)', [ref.id, index++, ref.tenantId, data]);
    }
  }

  async *read(db: Db, ref: BlobRef, range: ByteRange): AsyncIterable<Buffer> {
    const first = Math.floor(range.start / BLOB_CHUNK_BYTES);
    const last = Math.floor(range.end / BLOB_CHUNK_BYTES);
    for (let from = first; from <= last; from += CHUNKS_PER_READ) {
      const to = Math.min(last, from + CHUNKS_PER_READ - 1);
      const query = sql`select chunk_index, data from blob_chunks where blob_id = ${ref.id} and tenant_id = ${ref.tenantId} and chunk_index between ${from} and ${to} order by chunk_index`;
      const rows = this.asTenant
        ? await readAsTenant<{ chunk_index: number; data: Buffer }>(db, ref.tenantId, query)
        : ((await db.raw<{ rows: Array<{ chunk_index: number; data: Buffer }> }>(query.text)).rows);
      if (rows.length !== to - from + 1) throw new Error(`blob ${ref.id} is missing chunks ${from}..${to}`);
      for (const row of rows) {
        const offset = row.chunk_index * BLOB_CHUNK_BYTES;
        const lo = Math.max(0, range.start - offset);
        const hi = Math.min(row.data.length, range.end - offset + 1);
        yield lo === 0 && hi === row.data.length ? row.data : row.data.subarray(lo, hi);
      }
    }
  }

  async remove(): Promise<void> {
    // The chunks go with their blob's row (on delete cascade).
  }
}
