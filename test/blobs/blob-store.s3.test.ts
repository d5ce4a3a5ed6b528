/**
 * The blob-store contract (blob-store-contract.ts) on the S3 backend, against a local
 * S3-compatible server (s3rver) on a free port: one object per blob, uploaded in 5 MiB parts.
 */
import { afterAll, beforeAll } from 'vitest';
import { useTestEnvironment } from '../support/context.ts';
import { startS3Server, type TestS3Server } from '../support/s3-server.ts';
import { blobStoreContract } from './blob-store-contract.ts';

const env = useTestEnvironment();
let s3: TestS3Server;

beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(() => s3?.close());

blobStoreContract(env, {
  name: 'S3',
  config: () => ({ BLOB_BACKEND: 's3', ...s3.config }),
  units: async (_env, tenantId) => (await s3.keys()).filter((key) => key.startsWith(`${s3.config.S3_PREFIX}${tenantId}/`)).length,
  unitsOf: () => 1,
});
