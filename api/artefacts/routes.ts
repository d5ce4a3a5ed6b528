/**
 * Job artefacts (docs/http-api.md › Artefacts): `GET /api/jobs/:id/artefacts` lists a job's full
 * results with sizes; `GET /api/jobs/:id/artefacts/:name` downloads one as `.npy` (np.load reads it
 * unchanged) or raw little-endian bytes, streamed from the blob store a chunk at a time, with
 * Content-Length, ETag, one HTTP Range, and gzip when asked for.
 */
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import { npyHeader } from '../../shared/blobs/npy-header.ts';
import { ARTEFACTS_OPTION, artefactsNotAskedFor } from '../../shared/jobs/job-artefact-names.ts';
import type { ResponseHeader } from '../openapi/response-headers.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';
import { parseRange } from './byte-range.ts';
import { type ArtefactRow, artefactReader, jobExists, listArtefacts } from './store.ts';

const TAGS = ['Jobs'];
const READ = { scopes: ['jobs:read'] } as const;

const JobParams = z.object({ id: z.uuid() });
const ArtefactParams = z.object({ id: z.uuid(), name: z.string().regex(/^[a-z_]{1,40}$/) });
const DownloadQuery = z
  .object({ format: z.enum(['npy', 'raw']).default('npy').describe('npy: a NumPy file; raw: the little-endian array bytes alone') })
  .strict();

const ArtefactSchema = z
  .object({
    name: z.string().describe('labels, component_sizes or path'),
    dtype: z.string().describe("NumPy dtype string, e.g. '<u4'"),
    shape: z.array(z.number().int()),
    size: z.number().int().describe('Bytes of the raw array (the .npy adds its header)'),
    sha256: z.string().describe('Of the raw bytes'),
    links: z.object({ npy: z.string(), raw: z.string() }),
  })
  .openapi('Artefact');
const ArtefactListSchema = z
  .object({
    data: z.array(ArtefactSchema),
    stored: z.boolean().describe("false when the tenant's plan keeps no artefacts: the job's result is its summary only"),
    not_asked_for: z
      .array(z.string())
      .describe(`Per-cell artefacts of the job's type that its body did not list in \`${ARTEFACTS_OPTION}\`, so none was stored (e.g. a components job's labels)`),
    note: z.string().optional().describe('Why artefacts are missing, in words'),
  })
  .openapi('ArtefactList');

/** A download comes as `.npy` (format=npy) or raw bytes (format=raw). */
const DOWNLOAD_TYPES = ['application/x-npy', 'application/octet-stream'] as const;
const BINARY = z.string().openapi({ format: 'binary' });
const DOWNLOAD_HEADERS: Record<string, ResponseHeader> = {
  'Accept-Ranges': { description: 'Always `bytes`: one HTTP Range may be asked for', schema: { type: 'string', enum: ['bytes'] }, required: true },
  'Content-Disposition': { description: 'attachment; filename="<name>.npy" (or .bin for format=raw)', schema: { type: 'string' }, required: true },
};
const CONTENT_RANGE: ResponseHeader = { description: '`bytes <first>-<last>/<total>`', schema: { type: 'string' }, required: true };

function artefactJson(jobId: string, row: ArtefactRow): z.infer<typeof ArtefactSchema> {
  const base = `/api/jobs/${jobId}/artefacts/${row.name}`;
  return { name: row.name, dtype: row.meta.dtype, shape: row.meta.shape, size: row.size, sha256: row.sha256, links: { npy: `${base}?format=npy`, raw: `${base}?format=raw` } };
}

/** Says which artefacts were not asked for, and how to ask. */
function notAskedForNote(names: readonly string[]): string {
  const list = names.join(', ');
  return `${list} ${names.length === 1 ? 'was' : 'were'} not asked for, so not stored: submit the job with "${ARTEFACTS_OPTION}": ${JSON.stringify(names)} to store ${names.length === 1 ? 'it' : 'them'}`;
}

export function artefactRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { db } = deps.runtime;

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/jobs/:id/artefacts',
    summary: "A job's full results (label array, path, sizes) with their sizes and download links",
    tags: TAGS,
    auth: READ,
    params: JobParams,
    responses: { 200: { description: 'The artefacts', schema: ArtefactListSchema } },
    async handler(ctx, { params, principal }) {
      const plan = await deps.identity.plans.get(principal.planCode);
      const { job, rows } = await withTenant(db, principal.tenantId, async (trx) => {
        const job = await jobExists(trx, principal.tenantId, params.id);
        if (!job) throw new AppError('not_found', `No job ${params.id}`);
        return { job, rows: await listArtefacts(trx, principal.tenantId, params.id) };
      });
      const notAskedFor = artefactsNotAskedFor(job);
      const note = !plan.stores_artefacts
        ? `The ${plan.name} plan stores no artefacts: the job's result is its summary only`
        : notAskedFor.length > 0
          ? notAskedForNote(notAskedFor)
          : undefined;
      ctx.body = {
        data: rows.map((row) => artefactJson(params.id, row)),
        stored: plan.stores_artefacts,
        not_asked_for: notAskedFor,
        ...(note ? { note } : {}),
      };
    },
  });

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/jobs/:id/artefacts/:name',
    summary: 'Download an artefact as .npy or raw little-endian bytes (Range, ETag, gzip)',
    tags: TAGS,
    auth: READ,
    params: ArtefactParams,
    query: DownloadQuery,
    responses: {
      200: { description: 'The whole artefact', contentType: DOWNLOAD_TYPES, schema: BINARY, headers: DOWNLOAD_HEADERS },
      206: { description: 'The range asked for', contentType: DOWNLOAD_TYPES, schema: BINARY, headers: { ...DOWNLOAD_HEADERS, 'Content-Range': CONTENT_RANGE } },
      304: { description: 'Unchanged (If-None-Match)', headers: DOWNLOAD_HEADERS },
      416: { description: 'The range lies outside the artefact' },
    },
    async handler(ctx, { params, query, principal }) {
      const { job, row } = await withTenant(db, principal.tenantId, async (trx) => {
        const job = await jobExists(trx, principal.tenantId, params.id);
        if (!job) throw new AppError('not_found', `No job ${params.id}`);
        return { job, row: (await listArtefacts(trx, principal.tenantId, params.id)).find((a) => a.name === params.name) };
      });
      if (!row) {
        const notAsked = artefactsNotAskedFor(job).includes(params.name);
        throw new AppError('not_found', `Job ${params.id} has no artefact ${params.name}${notAsked ? `: ${notAskedForNote([params.name])}` : ''}`, {
          extra: notAsked ? { option: ARTEFACTS_OPTION } : {},
        });
      }
      const header = query.format === 'npy' ? npyHeader(row.meta) : Buffer.alloc(0);
      const total = header.length + row.size;
      const etag = `"${row.sha256}-${query.format}"`;
      ctx.set('ETag', etag);
      ctx.set('Accept-Ranges', 'bytes');
      ctx.set('Content-Disposition', `attachment; filename="${params.name}.${query.format === 'npy' ? 'npy' : 'bin'}"`);
      ctx.type = query.format === 'npy' ? 'application/x-npy' : 'application/octet-stream';
      if (ctx.get('if-none-match') === etag) {
        ctx.status = 304;
        return;
      }
      // If-Range with another validator: the file changed, send it whole.
      const ifRange = ctx.get('if-range');
      const range = ifRange && ifRange !== etag ? undefined : parseRange(ctx.get('range') || undefined, total);
      const { start, end } = range ?? { start: 0, end: total - 1 };
      const blobs = deps.blobs;
      async function* bytes(): AsyncIterable<Buffer> {
        if (start < header.length) yield header.subarray(start, Math.min(header.length, end + 1));
        const from = Math.max(0, start - header.length);
        const to = end - header.length;
        if (to >= from && row!.size > 0) yield* artefactReader(blobs, row!).read({ tenant_id: row!.tenant_id, id: row!.blob_id ?? '', size: row!.size }, { start: from, end: to });
      }
      const stream = Readable.from(bytes());
      if (range) {
        ctx.status = 206;
        ctx.set('Content-Range', `bytes ${start}-${end}/${total}`);
      }
      if (!range && ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
        ctx.set('Content-Encoding', 'gzip');
        ctx.vary('Accept-Encoding');
        ctx.body = stream.pipe(createGzip());
        return;
      }
      ctx.vary('Accept-Encoding');
      ctx.body = stream;
      ctx.length = end - start + 1;
    },
  });

  return router;
}
