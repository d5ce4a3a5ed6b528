/** The blob-store contract (blob-store-contract.ts) on PostgreSQL: bytes as 1 MiB `blob_chunks` rows. */
import { BLOB_CHUNK_BYTES } from '../../shared/blobs/index.ts';
import { useTestEnvironment } from '../support/context.ts';
import { blobStoreContract } from './blob-store-contract.ts';

const env = useTestEnvironment();

blobStoreContract(env, {
  name: 'PostgreSQL',
  config: () => ({ BLOB_BACKEND: 'postgres' }),
  units: async (e, tenantId) => Number((await e.db('blob_chunks').where({ tenant_id: tenantId }).count({ n: '*' }))[0]?.n),
  unitsOf: (bytes) => Math.ceil(bytes / BLOB_CHUNK_BYTES),
});
