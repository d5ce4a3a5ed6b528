/**
 * Pictures (docs/http-api.md › Pictures): `GET /api/jobs/:id/picture` renders a completed job as a
 * PNG, streamed: components coloured by label, diffusion's field as a heat map with its scale, a
 * shortest path over the obstacles. A 2-D lattice is shown whole; a larger one needs `?slice=`
 * fixing all axes but two. The picture's pixels are bounded by the plan (`max_picture_pixels`).
 */
import { Readable } from 'node:stream';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import Router from '@koa/router';
import { z } from 'zod';
import { withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import { resolveLattice } from '../../shared/lattice/resolve.ts';
import type { LatticeSpec } from '../../shared/lattice/types.ts';
import type { Plan } from '../../shared/plans.ts';
import { artefactReader, listArtefacts, type ArtefactRow } from '../artefacts/store.ts';
import type { BlobStore } from '../../shared/blobs/index.ts';
import { defineRoute } from '../routing.ts';
import type { ApiDeps, ApiState } from '../state.ts';
import { type PictureContent, pictureLayout, pictureRows } from './job-picture.ts';
import { picturePlane, type PicturePlane } from './picture-plane.ts';
import { arrayRows, obstacleRows, PlanePath, type PlaneRows } from './plane-sources.ts';
import { encodePng } from './png-stream.ts';
import { pictureJob, type PictureJob } from './store.ts';

const PictureParams = z.object({ id: z.uuid() });
const PictureQuery = z
  .object({
    slice: z
      .string()
      .max(200)
      .optional()
      .describe('Fixes all axes but two, e.g. `2:10` (axis 2 at index 10) on a 3-D lattice, `2:10,3:0` on a 4-D one; none on a 2-D lattice'),
    scale: z.coerce.number().int().min(1).max(64).optional().describe('Pixels per cell across and down; by default the largest that keeps the picture within 512 pixels'),
  })
  .strict();

/** Job types that have a picture. */
const PICTURED = ['components', 'diffusion', 'shortest_path'] as const;
/** The default scale keeps a picture's longer side within this many pixels. */
const DEFAULT_SIDE = 512;

/** An artefact's blob, as the blob store reads it, and what reads it (the row, for one kept there). */
function blobOf(deps: ApiDeps, row: ArtefactRow): { reader: Pick<BlobStore, 'read'>; blob: { tenant_id: string; id: string; size: number } } {
  return { reader: artefactReader(deps.blobs, row), blob: { tenant_id: row.tenant_id, id: row.blob_id ?? '', size: row.size } };
}

/** The blob of the artefact a picture reads, or a 404 that says why it is not there. */
function needArtefact(deps: ApiDeps, rows: ArtefactRow[], name: string, plan: Plan, jobId: string): ReturnType<typeof blobOf> {
  const row = rows.find((a) => a.name === name);
  if (row) return blobOf(deps, row);
  throw new AppError(
    'not_found',
    plan.stores_artefacts
      ? `Job ${jobId} has no ${name} artefact to draw`
      : `The ${plan.name} plan stores no artefacts, so job ${jobId} has no ${name} to draw: its result is its summary only`,
  );
}

function obstaclesOf(deps: ApiDeps, tenantId: string, spec: LatticeSpec, plane: PicturePlane, mapBlob: { id: string; size: number } | undefined): PlaneRows {
  if (mapBlob) return obstacleRows(plane, { kind: 'stored_map', blobs: deps.blobs, blob: { tenant_id: tenantId, ...mapBlob } });
  return obstacleRows(plane, resolveLattice(spec).obstacles);
}

export function pictureRoutes(deps: ApiDeps, registry: OpenAPIRegistry): Router<ApiState> {
  const router = new Router<ApiState>();
  const { db } = deps.runtime;

  defineRoute(router, registry, deps, {
    method: 'get',
    path: '/api/jobs/:id/picture',
    summary: 'A PNG of a completed job: components coloured, the diffusion field as a heat map with its scale, the path over the obstacles',
    tags: ['Jobs'],
    auth: { scopes: ['jobs:read'] },
    params: PictureParams,
    query: PictureQuery,
    responses: {
      200: {
        description: 'The picture, streamed; a heat map says its scale in tEXt chunks Scale-Min and Scale-Max too',
        contentType: 'image/png',
        schema: z.string().openapi({ format: 'binary' }),
        headers: { 'Content-Disposition': { description: 'inline; filename="<job id>[-<slice>].png"', schema: { type: 'string' }, required: true } },
      },
    },
    async handler(ctx, { params, query, principal }) {
      const tenantId = principal.tenantId;
      const plan = await deps.identity.plans.get(principal.planCode);
      const found = await withTenant(db, tenantId, async (trx) => {
        const job = await pictureJob(trx, tenantId, params.id);
        return job ? { job, artefacts: await listArtefacts(trx, tenantId, params.id) } : undefined;
      });
      if (!found) throw new AppError('not_found', `No job ${params.id}`);
      const { job, artefacts } = found;
      const type = job.type as (typeof PICTURED)[number];
      if (!PICTURED.includes(type)) throw new AppError('not_found', `Jobs of type ${job.type} have no picture (only ${PICTURED.join(', ')})`);
      if (job.status === 'queued' || job.status === 'running') {
        throw new AppError('job_not_finished', `The job is ${job.status}`, { extra: { job_status: job.status }, headers: { 'Retry-After': '1' } });
      }
      if (job.status !== 'completed' || !job.result) throw new AppError('job_without_result', `The job ${job.status === 'failed' ? 'failed' : 'was cancelled'}`);

      const mapId = job.spec.obstacles !== undefined && 'map' in job.spec.obstacles ? job.spec.obstacles.map : undefined;
      const { shape } = resolveLattice({ ...job.spec, obstacles: undefined });
      const plane = picturePlane(shape, query.slice);
      const range = type === 'diffusion' ? { min: Number(job.result['min'] ?? 0), max: Number(job.result['max'] ?? 0) } : undefined;
      const layoutAt = (scale: number) => pictureLayout(plane, type, scale, range);
      const layout = layoutAt(query.scale ?? defaultScale(plane, plan, layoutAt));
      const pixels = layout.width * layout.height;
      if (plan.max_picture_pixels >= 0 && pixels > plan.max_picture_pixels) {
        throw new AppError('plan_limit_exceeded', `The picture would have ${pixels} pixels; the ${plan.name} plan draws at most ${plan.max_picture_pixels}: ask for a smaller scale or a slice`, {
          extra: { limit: 'max_picture_pixels', limit_value: plan.max_picture_pixels, value: pixels, plan: plan.code },
        });
      }
      const content = await contentOf(deps, tenantId, params.id, type, job, plane, plan, artefacts, mapId);
      ctx.type = 'image/png';
      ctx.set('Content-Disposition', `inline; filename="${params.id}${query.slice ? `-${query.slice.replaceAll(/[:,]/g, '_')}` : ''}.png"`);
      const text: Record<string, string> = { Software: 'Catalytic', Job: params.id, Plane: `axes ${plane.axes.join(',')}${query.slice ? `, slice ${query.slice}` : ''}` };
      if (range) Object.assign(text, { 'Scale-Min': String(range.min), 'Scale-Max': String(range.max) });
      ctx.body = Readable.from(encodePng({ width: layout.width, height: layout.height, text }, pictureRows(plane, layout, content)));
    },
  });

  return router;
}

/** The largest scale (at least 1) within {@link DEFAULT_SIDE} pixels a side and the plan's pixels. */
function defaultScale(plane: PicturePlane, plan: Plan, layoutAt: (scale: number) => { width: number; height: number }): number {
  let scale = Math.max(1, Math.floor(DEFAULT_SIDE / Math.max(plane.width, plane.height)));
  const fits = (s: number): boolean => plan.max_picture_pixels < 0 || layoutAt(s).width * layoutAt(s).height <= plan.max_picture_pixels;
  while (scale > 1 && !fits(scale)) scale--;
  return scale;
}

async function contentOf(
  deps: ApiDeps,
  tenantId: string,
  jobId: string,
  type: (typeof PICTURED)[number],
  job: PictureJob,
  plane: PicturePlane,
  plan: Plan,
  artefacts: ArtefactRow[],
  mapId: string | undefined,
): Promise<PictureContent> {
  let mapBlob: { id: string; size: number } | undefined;
  if (mapId !== undefined) {
    const row = await deps.blobs.find(tenantId, mapId);
    if (!row) throw new AppError('not_found', `The obstacle map ${mapId} of job ${jobId} is gone`);
    mapBlob = { id: row.id, size: row.size };
  }
  const result = job.result!;
  switch (type) {
    case 'components': {
      const labels = needArtefact(deps, artefacts, 'labels', plan, jobId);
      return { kind: 'components', labels: arrayRows(labels.reader, labels.blob, plane) };
    }
    case 'diffusion': {
      const field = needArtefact(deps, artefacts, 'field', plan, jobId);
      return {
        kind: 'diffusion',
        field: arrayRows(field.reader, field.blob, plane),
        obstacles: obstaclesOf(deps, tenantId, job.spec, plane, mapBlob),
        min: Number(result['min'] ?? 0),
        max: Number(result['max'] ?? 0),
      };
    }
    case 'shortest_path': {
      const path = new PlanePath(plane);
      const stored = artefacts.find((a) => a.name === 'path');
      if (stored) {
        const { reader, blob } = blobOf(deps, stored);
        await path.addStored(reader, blob, plane.fixed.length + 2);
      }
      else for (const cell of (result['path'] as number[][] | undefined) ?? []) path.add(cell);
      return { kind: 'shortest_path', obstacles: obstaclesOf(deps, tenantId, job.spec, plane, mapBlob), path };
    }
  }
}
