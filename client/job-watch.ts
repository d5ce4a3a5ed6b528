/**
 * Following one job to its end. The events stream is preferred (updates as they happen); when it
 * is unavailable (an old server, a proxy that buffers streams, a dropped connection that keeps
 * dropping) the watcher falls back to polling `GET /api/jobs/:id`. Either way the caller sees
 * the same sequence: the job as it is now, each change, and last the final job with its result.
 */
import { CatalyticApiError, CatalyticConnectionError } from './errors.ts';
import { sleep } from './retry.ts';
import { isFinalStatus, type Job, type JobEvent } from './types.ts';

/** How {@link watchJob} follows a job. */
export interface WatchOptions {
  /** Stops watching (the job keeps running); the iterator throws the signal's reason. */
  signal?: AbortSignal;
  /**
   * `events` uses only the events stream, `poll` only polling, `auto` the stream with polling as
   * the fallback.
   * @defaultValue 'auto'
   */
  transport?: 'auto' | 'events' | 'poll';
  /**
   * Pause between polls when the server does not hold them (an older server, or one declining
   * to hold more of the tenant's polls).
   * @defaultValue 1000
   */
  pollIntervalMs?: number;
  /**
   * How long each poll asks the server to hold it until the job changes (`Prefer: wait`).
   * @defaultValue 25
   */
  waitSeconds?: number;
  /**
   * Stream connections that may end without news before the watcher falls back to polling.
   * @defaultValue 3
   */
  maxStreamFailures?: number;
}

/** One observation of the job. */
export interface JobUpdate {
  job: Job;
  /** Where it came from: the first read and polling are `poll`. */
  source: 'events' | 'poll';
}

/** One long poll's answer: `job` undefined when unchanged (304); `held` when the server waited. */
export interface JobPoll {
  job: Job | undefined;
  etag: string | undefined;
  held: boolean;
}

/** What the watcher needs from the jobs resource. */
export interface JobSource {
  get(id: string, options?: { signal?: AbortSignal }): Promise<Job>;
  /** A long poll (`Prefer: wait`, `If-None-Match`); without it the watcher polls with `get`. */
  poll?(id: string, options: { etag?: string; waitSeconds?: number; signal?: AbortSignal }): Promise<JobPoll>;
  events(id: string, options?: { signal?: AbortSignal; lastEventId?: string }): AsyncIterable<JobEvent>;
}

/** Statuses that say the events route is not there (an older API) rather than the job. */
const NO_STREAM_STATUSES = new Set([404, 405, 406, 501]);

function changed(a: Job, b: Job): boolean {
  return a.status !== b.status || a.progress !== b.progress || a.attempts !== b.attempts;
}

/**
 * Merges an event into the last known job: `status` events carry the whole job, `progress`
 * events `{id, progress}`.
 */
export function applyJobEvent(job: Job, event: JobEvent): Job {
  const data = event.data as Partial<Job> | null;
  if (!data || typeof data !== 'object') return job;
  if (event.event === 'status' && typeof data.status === 'string') return { ...job, ...data };
  if (typeof data.progress === 'number' && data.progress > job.progress) return { ...job, progress: data.progress };
  return job;
}

/** Follows a job to a final state; see the module comment. */
export async function* watchJob(source: JobSource, id: string, options: WatchOptions = {}): AsyncGenerator<JobUpdate> {
  const { signal, transport = 'auto', pollIntervalMs = 1000, maxStreamFailures = 3, waitSeconds = 25 } = options;
  if (!(pollIntervalMs > 0)) throw new TypeError('options.pollIntervalMs must be a positive number');
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0) throw new TypeError('options.waitSeconds must be a non-negative integer');
  let job = await source.get(id, { signal });
  yield { job, source: 'poll' };
  if (isFinalStatus(job.status)) return;

  if (transport !== 'poll') {
    let failures = 0;
    let lastEventId: string | undefined;
    while (failures < maxStreamFailures) {
      let news = false;
      try {
        for await (const event of source.events(id, { signal, lastEventId })) {
          lastEventId = event.id ?? lastEventId;
          const next = applyJobEvent(job, event);
          if (!changed(job, next)) continue;
          news = true;
          if (isFinalStatus(next.status)) {
            // The final event carries the result; an older server's might not: read it then.
            job = next.status === 'completed' && !next.result ? await source.get(id, { signal }) : next;
            yield { job, source: 'events' };
            return;
          }
          job = next;
          yield { job, source: 'events' };
        }
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (err instanceof CatalyticApiError) {
          // The job was just read, so a 404 here means the route, not the job: poll instead.
          if (transport === 'events' || !NO_STREAM_STATUSES.has(err.status)) throw err;
          break;
        }
        // Anything else is a dropped or refused connection: catch up below and try again.
      }
      // The stream ended without a final state, or dropped: catch up, then try it again.
      const current = await source.get(id, { signal });
      if (changed(job, current) || isFinalStatus(current.status)) {
        job = current;
        yield { job, source: 'poll' };
        if (isFinalStatus(job.status)) return;
      }
      failures = news ? 0 : failures + 1;
      if (failures > 0) await sleep(Math.min(pollIntervalMs * failures, 5000), signal);
    }
    if (transport === 'events') throw new CatalyticConnectionError(`the events stream of job ${id} keeps failing`, `GET /api/jobs/${id}/events`);
  }

  // Long polls where the source has them: the server answers when the job changes.
  let etag: string | undefined;
  let pause = !source.poll;
  for (;;) {
    if (pause) await sleep(pollIntervalMs, signal);
    let current: Job;
    if (source.poll) {
      // The first poll only learns the ETag: held without one, it would wait for the change
      // after the server's state, which may already be newer than the last one seen here.
      const first = etag === undefined;
      const answer = await source.poll(id, { etag, waitSeconds: first ? 0 : waitSeconds, signal });
      etag = answer.etag;
      pause = !first && !answer.held;
      if (!answer.job) continue;
      current = answer.job;
    } else {
      current = await source.get(id, { signal });
    }
    if (!changed(job, current) && !isFinalStatus(current.status)) continue;
    job = current;
    yield { job, source: 'poll' };
    if (isFinalStatus(job.status)) return;
  }
}
