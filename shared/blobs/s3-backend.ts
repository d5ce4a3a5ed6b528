/**
 * Blob bytes in an S3-compatible object store (`BLOB_BACKEND=s3`): one object per blob, key
 * `<S3_PREFIX><tenant>/<blob>`. Writes go up as a multipart upload of `S3_PART_BYTES` parts (one
 * part in memory at a time; a blob smaller than a part is one PutObject), reads are ranged GETs
 * streamed as they arrive, so no process holds a whole blob.
 *
 * The blob's row stays in PostgreSQL, in the transaction that references it. The object store
 * takes no part in that transaction, so this backend undoes its own work: an upload whose bytes
 * fail is aborted, and an object whose transaction rolls back afterwards is deleted. Objects of
 * blobs retention deletes go in the same transaction as their rows (docs/architecture.md › Blobs).
 */
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { CompletedPart, S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { Config } from '../config.ts';
import type { Knex } from '../db.ts';
import type { BlobBackend, BlobRef, ByteRange } from './blob-backend.ts';

/** The settings this backend reads. */
export type S3BlobConfig = Pick<
  Config,
  'S3_BUCKET' | 'S3_ENDPOINT' | 'S3_REGION' | 'S3_FORCE_PATH_STYLE' | 'S3_PREFIX' | 'S3_ACCESS_KEY_ID' | 'S3_SECRET_ACCESS_KEY' | 'S3_PART_BYTES'
>;

/** The AWS SDK, loaded by the first request: a role on the PostgreSQL backend never pays for it. */
type Sdk = typeof S3Sdk;

/** Keys per DeleteObjects request (the S3 maximum). */
const DELETE_BATCH = 1000;

export class S3BlobBackend implements BlobBackend {
  readonly name = 's3' as const;
  private connection: Promise<{ sdk: Sdk; client: S3Client }> | undefined;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partBytes: number;

  /** @throws RangeError when `S3_BUCKET` is missing (config validation refuses that first) */
  constructor(private readonly config: S3BlobConfig) {
    if (!config.S3_BUCKET) throw new RangeError('S3_BUCKET is required when BLOB_BACKEND is s3');
    this.bucket = config.S3_BUCKET;
    this.prefix = config.S3_PREFIX;
    this.partBytes = config.S3_PART_BYTES;
  }

  private connect(): Promise<{ sdk: Sdk; client: S3Client }> {
    const { config } = this;
    this.connection ??= import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      client: new sdk.S3Client({
        region: config.S3_REGION,
        forcePathStyle: config.S3_FORCE_PATH_STYLE,
        ...(config.S3_ENDPOINT ? { endpoint: config.S3_ENDPOINT } : {}),
        ...(config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
          ? { credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY } }
          : {}),
      }),
    }));
    return this.connection;
  }

  /** The object key of a blob. */
  keyOf(ref: BlobRef): string {
    return `${this.prefix}${ref.tenantId}/${ref.id}`;
  }

  async write(trx: Knex.Transaction, ref: BlobRef, chunks: AsyncIterable<Buffer>): Promise<void> {
    const { sdk, client } = await this.connect();
    const { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, PutObjectCommand, UploadPartCommand } = sdk;
    const Key = this.keyOf(ref);
    let uploadId: string | undefined;
    const parts: CompletedPart[] = [];
    const part: Buffer[] = [];
    let partSize = 0;
    const sendPart = async (): Promise<void> => {
      uploadId ??= (await client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key }))).UploadId;
      const PartNumber = parts.length + 1;
      const body = part.length === 1 ? part[0]! : Buffer.concat(part, partSize);
      const { ETag } = await client.send(new UploadPartCommand({ Bucket: this.bucket, Key, UploadId: uploadId, PartNumber, Body: body }));
      parts.push({ ETag, PartNumber });
      part.length = 0;
      partSize = 0;
    };
    try {
      for await (const chunk of chunks) {
        // The store reuses nothing it yields, so holding the chunk itself is safe.
        part.push(chunk);
        partSize += chunk.length;
        if (partSize >= this.partBytes) await sendPart();
      }
      if (uploadId === undefined) {
        // Smaller than one part (or empty): one request.
        await client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: Buffer.concat(part, partSize), ContentLength: partSize }));
      } else {
        if (partSize > 0) await sendPart();
        await client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
      }
    } catch (err) {
      if (uploadId !== undefined) await client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId })).catch(() => undefined);
      throw err;
    }
    // Stored; if the transaction that writes the blob's row rolls back after all, so does the object.
    trx.executionPromise.catch(() => client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key })).catch(() => undefined));
  }

  async *read(_db: unknown, ref: BlobRef, range: ByteRange): AsyncIterable<Buffer> {
    const { sdk: { GetObjectCommand }, client } = await this.connect();
    const { Body } = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(ref), Range: `bytes=${range.start}-${range.end}` }));
    if (!Body) throw new Error(`blob ${ref.id} has no object`);
    // In Node the body is a Readable: reading it as it arrives keeps memory to its buffer.
    const stream = Body as Readable;
    try {
      for await (const piece of stream) yield piece as Buffer;
    } finally {
      stream.destroy();
    }
  }

  async remove(_trx: Knex.Transaction, refs: readonly BlobRef[]): Promise<void> {
    if (refs.length === 0) return;
    const { sdk: { DeleteObjectsCommand }, client } = await this.connect();
    for (let at = 0; at < refs.length; at += DELETE_BATCH) {
      const Objects = refs.slice(at, at + DELETE_BATCH).map((ref) => ({ Key: this.keyOf(ref) }));
      const { Errors } = await client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects, Quiet: true } }));
      // A key already gone is not an error in S3; anything else keeps the rows (the caller's transaction rolls back).
      if (Errors?.length) throw new Error(`S3 could not delete ${Errors.length} blob objects: ${Errors[0]?.Code ?? ''} ${Errors[0]?.Message ?? ''}`);
    }
  }

  async close(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) (await connection).client.destroy();
  }
}
