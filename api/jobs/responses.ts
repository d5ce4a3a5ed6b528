/** Small helpers the job and lattice routes share: the job response and the key header. */
import type { JobBody } from '../../shared/jobs/job-body.ts';
import { validationError } from '../routing.ts';
import type { ApiRouterContext } from '../state.ts';
import { IdempotencyHeaders } from './schemas.ts';

/** Where a job and its parts live. */
export function jobLinks(id: string) {
  return { self: `/api/jobs/${id}`, result: `/api/jobs/${id}/result`, events: `/api/jobs/${id}/events` };
}

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
