/**
 * Long polls of `GET /api/jobs/:id` (`Prefer: wait=N` or `?wait=N`): the request is held until the
 * job's answer changes or the time is up (docs/http-api.md › Polling a job).
 *
 * A held poll costs a socket, a timer and a listener on the job's Redis channel; it holds no
 * PostgreSQL connection (reads go through the job-state cache, which reads the database only
 * when the job's version moved). Each tenant may hold only so many at once across all API
 * processes (a lease each in Redis, held-poll-leases.ts), so no tenant can take the API's sockets
 * from the others: past the cap a poll is answered at once, as if no wait had been asked for (a
 * preference may be ignored, RFC 7240). While Redis does not answer, the cap holds per process.
 */
import { isFinalStatus } from '../../shared/jobs/types.ts';
import type { JobUpdateWatcher } from '../../shared/queues/job-updates.ts';
import type { Logger } from '../../shared/logger.ts';
import type { HeldPollLeases } from './held-poll-leases.ts';
import type { JobState, JobStateCache } from './job-state-cache.ts';

export interface HeldPollsOptions {
  /** Polls one tenant may hold at once (across processes with `leases`). @defaultValue 64 */
  maxPerTenant?: number;
  /** The cap's leases in Redis; without them the cap is per process. */
  leases?: HeldPollLeases;
  logger?: Logger;
}

const DEFAULT_MAX_PER_TENANT = 64;

export class HeldPolls {
  readonly maxPerTenant: number;
  private readonly heldBy = new Map<string, number>();
  /** Wakes every held poll (shutdown): each answers what it has. */
  private readonly wakers = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly states: JobStateCache,
    private readonly watcher: JobUpdateWatcher,
    private readonly options: HeldPollsOptions = {},
  ) {
    this.maxPerTenant = options.maxPerTenant ?? DEFAULT_MAX_PER_TENANT;
    if (!Number.isInteger(this.maxPerTenant) || this.maxPerTenant < 0) throw new Error('options.maxPerTenant must be a non-negative integer');
  }

  /** Polls the tenant holds now. */
  held(tenantId: string): number {
    return this.heldBy.get(tenantId) ?? 0;
  }

  /**
   * Waits up to `waitMs` for the job's answer to differ from `etag`; resolves with the job as it
   * is then (undefined if it is gone). Resolves with `undefined` for `held: false` when the tenant
   * is at its cap, the job is final or the process is closing: the caller answers at once.
   * `aborted` ends the wait early (the client went away).
   */
  async wait(
    tenantId: string,
    first: JobState,
    etag: string,
    waitMs: number,
    aborted?: AbortSignal,
  ): Promise<{ held: boolean; state: JobState | undefined }> {
    if (first.etag !== etag || isFinalStatus(first.body.status) || waitMs <= 0 || this.closed) return { held: false, state: first };
    const count = this.held(tenantId);
    if (count >= this.maxPerTenant) return { held: false, state: first };
    this.heldBy.set(tenantId, count + 1);
    const lease = await this.lease(tenantId, waitMs);
    if (lease === null) {
      this.release(tenantId);
      return { held: false, state: first };
    }
    let wake: (() => void) | undefined;
    let signalled = false;
    const waker = (): void => {
      signalled = true;
      wake?.();
    };
    this.wakers.add(waker);
    aborted?.addEventListener('abort', waker, { once: true });
    const deadline = Date.now() + waitMs;
    let unwatch: (() => void) | undefined;
    try {
      // Subscribed before the re-read below, so no change after that read goes unheard.
      unwatch = await this.watcher.watch(first.jobId, waker);
      for (;;) {
        signalled = false;
        const state = await this.states.read(tenantId, first.jobId);
        const left = deadline - Date.now();
        if (!state || state.etag !== etag || left <= 0 || this.closed || aborted?.aborted) return { held: true, state };
        if (!signalled) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, left);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
      }
    } finally {
      unwatch?.();
      this.wakers.delete(waker);
      aborted?.removeEventListener('abort', waker);
      this.release(tenantId, lease);
    }
  }

  /**
   * A lease of the tenant's global cap: its name, null at the cap, undefined when there are no
   * leases or Redis did not answer (the process's own count is then the cap).
   */
  private async lease(tenantId: string, waitMs: number): Promise<string | null | undefined> {
    if (!this.options.leases) return undefined;
    try {
      return (await this.options.leases.acquire(tenantId, this.maxPerTenant, waitMs)) ?? null;
    } catch (err) {
      this.options.logger?.warn({ err, tenantId }, 'held-poll lease not taken; capping held polls per process');
      return undefined;
    }
  }

  private release(tenantId: string, lease?: string): void {
    const now = this.held(tenantId) - 1;
    if (now > 0) this.heldBy.set(tenantId, now);
    else this.heldBy.delete(tenantId);
    if (lease && this.options.leases) {
      this.options.leases.release(tenantId, lease).catch((err: unknown) => this.options.logger?.debug({ err, tenantId }, 'held-poll lease not released; it lapses'));
    }
  }

  /** Answers every held poll now and holds no more (the server is draining). */
  close(): void {
    this.closed = true;
    for (const waker of this.wakers) waker();
  }
}
