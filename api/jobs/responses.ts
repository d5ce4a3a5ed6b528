/** Small helpers the job and lattice routes share: the job response and the key header. */
import { type JobBody, jobLinks } from '../../shared/jobs/job-body.ts';
import type { ResponseHeader } from '../openapi/response-headers.ts';
import { validationError } from '../routing.ts';
import type { ApiRouterContext } from '../state.ts';
import { IdempotencyHeaders } from './schemas.ts';

export { jobLinks };


/** A job as the API answers it: the public job body and its links. */
export function jobResponse(body: JobBody) {
  return { ...body, links: jobLinks(body.id) };
}

/** The request's `Idempotency-Key`, checked. */
export function idempotencyKeyOf(ctx: ApiRouterContext): string | undefined {
  const parsed = IdempotencyHeaders.safeParse({ 'idempotency-key': ctx.get('idempotency-key') || undefined });
  if (!parsed.success) throw validationError(parsed.error, 'headers');
  return parsed.data['idempotency-key'];
}

/** Declared on answers a repeated `Idempotency-Key` can give. */
export const REPLAY_HEADERS: Record<string, ResponseHeader> = {
  'Idempotent-Replayed': {
    description: '`true` when this is the job an earlier request with the same Idempotency-Key made',
    schema: { type: 'string', enum: ['true'] },
  },
};

/** Marks an answer that replays the job an earlier request with the same key made. */
export function markReplayed(ctx: ApiRouterContext, replayed: boolean): void {
  if (replayed) ctx.set('Idempotent-Replayed', 'true');
}
