/**
 * Where a blob's bytes live. The blob's row (tenant, kind, size, sha256) is always in PostgreSQL;
 * a backend holds the bytes: PostgreSQL itself (`postgres-backend.ts`, the default, so a
 * one-machine install needs nothing more) or an S3-compatible store (`s3-backend.ts`).
 */
import type { Db, Knex } from '../db.ts';

/** Names stored in `blobs.backend`. */
export type BlobBackendName = 'postgres' | 's3';

/** Bytes travel in chunks of this size between the store and its backends (1 MiB). */
export const BLOB_CHUNK_BYTES = 2 ** 20;

/** A blob's identity: its tenant and id. */
export interface BlobRef {
  readonly tenantId: string;
  readonly id: string;
}

/** An inclusive byte range `[start, end]` of a blob, as HTTP Range speaks of it. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface BlobBackend {
  readonly name: BlobBackendName;
  /**
   * Stores a blob's bytes, given as chunks of exactly {@link BLOB_CHUNK_BYTES} (the last may be
   * shorter). `trx` is the transaction that writes the blob's row: the PostgreSQL backend writes in
   * it, so a failure anywhere rolls everything back; another backend cleans up after itself when
   * `chunks` throws.
   */
  write(trx: Knex.Transaction, ref: BlobRef, chunks: AsyncIterable<Buffer>): Promise<void>;
  /** The bytes of `range`, in order, a chunk at a time. */
  read(db: Db, ref: BlobRef, range: ByteRange): AsyncIterable<Buffer>;
  /** Removes the bytes of blobs whose rows are being deleted (in `trx`). */
  remove(trx: Knex.Transaction, refs: readonly BlobRef[]): Promise<void>;
  close?(): Promise<void>;
}
