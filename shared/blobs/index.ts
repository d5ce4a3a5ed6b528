/** The blob store with the backend the configuration names. */
import type { Config } from '../config.ts';
import type { Db } from '../db.ts';
import type { BlobBackend } from './blob-backend.ts';
import { BlobStore } from './blob-store.ts';
import { PostgresBlobBackend } from './postgres-backend.ts';

export { BlobStore, type BlobRow, type BlobKind, type NewBlob, storedBytes, storageExceeded } from './blob-store.ts';
export { BLOB_CHUNK_BYTES, type BlobBackend, type BlobRef, type ByteRange } from './blob-backend.ts';

/**
 * @param asTenant - reads go through row-level security as the blob's tenant (the API's pool);
 *   false for the owner's pool of workers and the scheduler
 */
export function createBlobBackend(config: Pick<Config, 'BLOB_BACKEND'>, asTenant = true): BlobBackend {
  switch (config.BLOB_BACKEND) {
    case 'postgres':
      return new PostgresBlobBackend(asTenant);
  }
}

/** A blob store over `db` (the API's row-level-security pool, or the owner's pool in workers). */
export function createBlobStore(db: Db, config: Pick<Config, 'BLOB_BACKEND'>, asTenant = true): BlobStore {
  return new BlobStore(db, createBlobBackend(config, asTenant));
}
