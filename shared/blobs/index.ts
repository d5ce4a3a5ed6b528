/** The blob store with the backend the configuration names. */
import type { Db } from '../db.ts';
import type { BlobBackend } from './blob-backend.ts';
import { BlobStore } from './blob-store.ts';
import { PostgresBlobBackend } from './postgres-backend.ts';
import { S3BlobBackend, type S3BlobConfig } from './s3-backend.ts';

export { BlobStore, type BlobRow, type BlobKind, type NewBlob, storedBytes, storageExceeded } from './blob-store.ts';
export { S3BlobBackend, type S3BlobConfig } from './s3-backend.ts';
export { BLOB_CHUNK_BYTES, type BlobBackend, type BlobRef, type ByteRange } from './blob-backend.ts';

/** The settings that choose and reach a backend: the S3 ones only with `s3`. */
export type BlobConfig = { BLOB_BACKEND: 'postgres' } | ({ BLOB_BACKEND: 's3' } & S3BlobConfig);

/**
 * @param asTenant - reads go through row-level security as the blob's tenant (the API's pool);
 *   false for the owner's pool of workers and the scheduler
 */
export function createBlobBackend(config: BlobConfig, asTenant = true): BlobBackend {
  switch (config.BLOB_BACKEND) {
    case 'postgres':
      return new PostgresBlobBackend(asTenant);
    case 's3':
      // Object keys carry the tenant, and only the store hands them out: no row-level security to apply.
      return new S3BlobBackend(config);
  }
}

/** A blob store over `db` (the API's row-level-security pool, or the owner's pool in workers). */
export function createBlobStore(db: Db, config: BlobConfig, asTenant = true): BlobStore {
  return new BlobStore(db, createBlobBackend(config, asTenant));
}
