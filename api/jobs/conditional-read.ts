/**
 * The HTTP side of polling one job: `If-None-Match` (RFC 9110 § 13.1.2) and `Prefer: wait=N`
 * (RFC 7240 § 4.3). See docs/http-api.md › Polling a job.
 */
import { MAX_JOB_WAIT_S } from './schemas.ts';

/** True when the `If-None-Match` header names `etag` (weak comparison, as a GET uses) or is `*`. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = etag.replace(/^W\//, '');
  for (const raw of header.split(',')) {
    const tag = raw.trim();
    if (tag === '*' || tag.replace(/^W\//, '') === bare) return true;
  }
  return false;
}

const PREFER_WAIT = /(?:^|[,;])\s*wait\s*=\s*"?(\d+)"?\s*(?=$|[,;])/i;

/**
 * The wait a request asks for, in seconds, cut to {@link MAX_JOB_WAIT_S}: `?wait=N` (already
 * validated) wins over `Prefer: wait=N`. `viaPrefer` says whether `Preference-Applied` is due.
 */
export function requestedWait(prefer: string | undefined, query: number | undefined): { seconds: number; viaPrefer: boolean } {
  if (query !== undefined) return { seconds: query, viaPrefer: false };
  const match = prefer ? PREFER_WAIT.exec(prefer) : null;
  if (!match) return { seconds: 0, viaPrefer: false };
  return { seconds: Math.min(Number(match[1]), MAX_JOB_WAIT_S), viaPrefer: true };
}
