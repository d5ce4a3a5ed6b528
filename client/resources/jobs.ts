/** Jobs: submit, read, list, cancel, fetch results, stream events and wait for the end. */
import { randomUUID } from 'node:crypto';
import type { KernelType } from '../../shared/lattice/types.ts';
import type { HttpClient } from '../http.ts';
import { type JobPoll, watchJob, type WatchOptions, type JobUpdate } from '../job-watch.ts';
import { parseEventStream } from '../sse.ts';
import { isFinalStatus, type Job, type JobEvent, type JobListQuery, type JobPage, type JobSubmission, type JobSummary, type KernelResultByType, type SubmittedJob } from '../types.ts';
import { everyItem } from '../paging.ts';

/** An artefact of a job (GET /api/jobs/:id/artefacts). */
export interface JobArtefact {
  name: string;
  dtype: string;
  shape: number[];
  size: number;
  sha256: string;
  links: { npy: string; raw: string };
}

export interface JobArtefactList {
  data: JobArtefact[];
  stored: boolean;
  /** Per-cell artefacts of the job's type its body did not list in `artefacts` (none stored). */
  not_asked_for: string[];
  note?: string;
}

const path = (id: string) => `/api/jobs/${encodeURIComponent(id)}`;

/** Options of {@link JobsResource.submit}. */
export interface SubmitOptions {
  /**
   * Makes the submission safe to repeat: the same key and body give the same job. The SDK sends
   * a random one when none is given, so its own retries never submit twice.
   */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** Options of {@link JobsResource.wait}. */
export interface WaitOptions extends WatchOptions {
  /** Called with every state or progress change while waiting. */
  onUpdate?: (update: JobUpdate) => void;
}

export class JobsResource {
  constructor(private readonly http: HttpClient) {}

  /** Submits a job (202 Accepted): it is queued, not done. */
  async submit(input: JobSubmission, options: SubmitOptions = {}): Promise<SubmittedJob> {
    const { body } = await this.http.request<SubmittedJob>('POST', '/api/jobs', {
      body: input,
      headers: { 'idempotency-key': options.idempotencyKey ?? randomUUID() },
      idempotent: true,
      signal: options.signal,
    });
    return body;
  }

  async get(id: string, options: { signal?: AbortSignal } = {}): Promise<Job> {
    return (await this.http.request<Job>('GET', path(id), { signal: options.signal })).body;
  }

  /**
   * A long poll: the server holds the request up to `waitSeconds` (`Prefer: wait`) until the job
   * differs from `etag` (or, without one, from how it is now). `job` is undefined when it has
   * not changed (304); `held` says whether the server waited at all (it may decline, e.g. when the
   * tenant holds many polls already), so a caller knows to pause before asking again.
   */
  async poll(id: string, options: { etag?: string; waitSeconds?: number; signal?: AbortSignal } = {}): Promise<JobPoll> {
    const waitSeconds = options.waitSeconds ?? 25;
    const headers: Record<string, string> = { prefer: `wait=${waitSeconds}` };
    if (options.etag) headers['if-none-match'] = options.etag;
    const response = await this.http.request<Job>('GET', path(id), { headers, signal: options.signal, timeoutMs: waitSeconds * 1000 + 15_000 });
    return {
      job: response.status === 304 ? undefined : response.body,
      etag: response.headers.get('etag') ?? options.etag,
      held: response.headers.get('preference-applied') !== null,
    };
  }

  /** One page of jobs, newest first; pass `next_cursor` as `cursor` for the next. */
  async list(query: JobListQuery = {}): Promise<JobPage> {
    return (await this.http.request<JobPage>('GET', '/api/jobs', { query: { ...query } })).body;
  }

  /** Every job matching the query, page by page, as summaries (get a job for its result). */
  all(query: Omit<JobListQuery, 'cursor'> = {}): AsyncGenerator<JobSummary> {
    return everyItem((q) => this.list(q), query);
  }

  /**
   * Cancels a job: a queued job never runs, a running one stops within a second. Resolves with
   * the job as the API answers (possibly still `running` for a moment; wait for `cancelled`).
   */
  async cancel(id: string): Promise<Job> {
    return (await this.http.request<Job>('DELETE', path(id))).body;
  }

  /** A completed job's result (409 `job_not_finished` before it completes). */
  async result<T extends KernelType = KernelType>(id: string): Promise<KernelResultByType[T]> {
    return (await this.http.request<KernelResultByType[T]>('GET', `${path(id)}/result`)).body;
  }

  /** A job's full results (labels, sizes, path) with sizes and links; `stored: false` when the plan keeps none. */
  async artefacts(id: string): Promise<JobArtefactList> {
    return (await this.http.request<JobArtefactList>('GET', `${path(id)}/artefacts`)).body;
  }

  /**
   * Downloads an artefact as a stream (`.npy` by default, or `raw` little-endian bytes), never
   * held whole: the answer's `body` is a web ReadableStream. `start` resumes from that byte (206).
   */
  async downloadArtefact(id: string, name: string, options: { format?: 'npy' | 'raw'; start?: number; signal?: AbortSignal } = {}): Promise<Response> {
    return this.http.stream('GET', `${path(id)}/artefacts/${encodeURIComponent(name)}`, {
      query: { format: options.format ?? 'npy' },
      accept: 'application/x-npy, application/octet-stream, application/problem+json',
      headers: options.start ? { range: `bytes=${options.start}-` } : {},
      signal: options.signal,
    });
  }

  /**
   * Diffusion's whole float32 field as a stream (the `field` artefact: `.npy` by default, or `raw`
   * little-endian float32 in row-major order), never held whole. `start` resumes from that byte.
   */
  async downloadField(id: string, options: { format?: 'npy' | 'raw'; start?: number; signal?: AbortSignal } = {}): Promise<Response> {
    return this.downloadArtefact(id, 'field', options);
  }

  /**
   * The job's PNG picture as a stream (components coloured, diffusion as a heat map with its scale,
   * a path over the obstacles). `slice` fixes all axes but two of a larger lattice, e.g. `'2:10'`;
   * `scale` is pixels per cell.
   */
  async picture(id: string, options: { slice?: string; scale?: number; signal?: AbortSignal } = {}): Promise<Response> {
    const query: Record<string, string> = {};
    if (options.slice !== undefined) query['slice'] = options.slice;
    if (options.scale !== undefined) query['scale'] = String(options.scale);
    return this.http.stream('GET', `${path(id)}/picture`, { query, accept: 'image/png, application/problem+json', signal: options.signal });
  }

  /**
   * The job's server-sent events (status and progress) until it reaches a final state or
   * `signal` aborts. One connection, no reconnection: {@link watch} adds that.
   */
  async *events(id: string, options: { signal?: AbortSignal; lastEventId?: string } = {}): AsyncGenerator<JobEvent> {
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    const response = await this.http.stream('GET', `${path(id)}/events`, {
      accept: 'text/event-stream',
      headers: options.lastEventId ? { 'last-event-id': options.lastEventId } : {},
      signal,
    });
    if (!response.body) return;
    try {
      for await (const message of parseEventStream(response.body, signal)) {
        let data: unknown;
        try {
          data = JSON.parse(message.data);
        } catch {
          data = message.data;
        }
        const event = { event: message.event, id: message.id, data } as JobEvent;
        yield event;
        const status = (data as { status?: unknown } | null)?.status;
        if (typeof status === 'string' && isFinalStatus(status)) return;
      }
    } finally {
      // Leaving early (break, return, error) closes the connection.
      controller.abort();
    }
  }

  /**
   * Follows a job until it ends: its events stream, reconnecting or falling back to polling when
   * the stream is unavailable. Yields each state or progress change; the last update is final.
   */
  watch(id: string, options: WatchOptions = {}): AsyncGenerator<JobUpdate> {
    return watchJob(this, id, options);
  }

  /**
   * Resolves with the job once it is final (completed, failed or cancelled, with its result when
   * completed). Rejects with the signal's reason when `signal` aborts (the job keeps running).
   */
  async wait(id: string, options: WaitOptions = {}): Promise<Job> {
    let last: Job | undefined;
    for await (const update of this.watch(id, options)) {
      options.onUpdate?.(update);
      last = update.job;
    }
    if (!last) throw new Error(`watching job ${id} ended without news`);
    return last;
  }
}
