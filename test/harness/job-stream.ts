/**
 * A steady stream of jobs from several tenants through the API, as clients would send them:
 * one submission every `1000 / perSecond` ms whatever the answers take (a slow or failing API
 * does not slow the stream down), each with its own Idempotency-Key and retried on another API
 * when one fails. Some jobs are cancelled right after they are accepted. The stream remembers
 * every job that got a 202: those are the ones the system promised to finish.
 */
import { randomUUID } from 'node:crypto';
import type { ApiClient } from './api-client.ts';

export interface StreamTenant {
  tenantId: string;
  /** Authorization header of the tenant's API key. */
  headers: Record<string, string>;
}

/** A job body as POST /api/jobs takes it. */
export interface JobBody {
  type: 'shortest_path' | 'components' | 'diffusion';
  lattice: Record<string, unknown>;
  params?: Record<string, unknown>;
}

export interface AcceptedJob {
  id: string;
  tenantId: string;
  type: JobBody['type'];
  body: JobBody;
  idempotencyKey: string;
  /** Attempts the submission took (more than 1: it was retried, e.g. its API died). */
  submitAttempts: number;
  /** A cancel was requested (and answered 2xx). */
  cancelRequested: boolean;
}

export interface JobStreamOptions {
  client: ApiClient;
  tenants: readonly StreamTenant[];
  /** @defaultValue 4 */
  perSecond?: number;
  /** The n-th job's body. @defaultValue {@link mixedJob} */
  job?: (n: number) => JobBody;
  /** Every how many jobs one is cancelled right after acceptance (0 = never). @defaultValue 10 */
  cancelEvery?: number;
}

/**
 * Jobs of each type in turn, small enough for a shared machine: a shortest path and a
 * components count of a few milliseconds, and a diffusion of about a second (long enough to be
 * running when a process is killed).
 */
export function mixedJob(n: number): JobBody {
  const seed = n % 997;
  switch (n % 3) {
    case 0:
      return { type: 'shortest_path', lattice: { shape: [40, 40], obstacles: { density: 0.2, seed } }, params: { start: [0, 0], end: [39, 39] } };
    case 1:
      return { type: 'components', lattice: { shape: [50, 50], obstacles: { density: 0.3, seed } } };
    default:
      return { type: 'diffusion', lattice: { shape: [80, 80] }, params: { steps: 1500, alpha: 0.2, sources: [{ cell: [40, 40], value: 1 }] } };
  }
}

export class JobStream {
  readonly accepted = new Map<string, AcceptedJob>();
  /** Submissions answered with something other than 202 after all retries (must stay 0). */
  readonly refused: Array<{ status: number; body: unknown }> = [];
  /** Submissions that never got an answer within the client's retry time. */
  readonly errors: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private submitted = 0;

  constructor(private readonly options: JobStreamOptions) {}

  get submissions(): number {
    return this.submitted;
  }

  start(): this {
    const everyMs = 1000 / (this.options.perSecond ?? 4);
    const tick = () => {
      const n = this.submitted++;
      const task = this.submit(n).finally(() => this.inFlight.delete(task));
      this.inFlight.add(task);
      this.timer = setTimeout(tick, everyMs);
    };
    tick();
    return this;
  }

  /**
   * Submits `n` jobs at once, on top of the steady stream (a backlog that is queued or running
   * when a fault hits); resolves when all are answered.
   */
  async burst(n: number): Promise<void> {
    const tasks = Array.from({ length: n }, () => {
      const task = this.submit(this.submitted++).finally(() => this.inFlight.delete(task));
      this.inFlight.add(task);
      return task;
    });
    await Promise.all(tasks);
  }

  /** Stops submitting and waits for the submissions in flight to be answered. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async submit(n: number): Promise<void> {
    const { client, tenants } = this.options;
    const tenant = tenants[n % tenants.length] as StreamTenant;
    const body = (this.options.job ?? mixedJob)(n);
    const idempotencyKey = randomUUID();
    try {
      const response = await client.request<{ id: string }>('/api/jobs', { body, headers: tenant.headers, idempotencyKey });
      if (response.status !== 202) {
        this.refused.push({ status: response.status, body: response.body });
        return;
      }
      const job: AcceptedJob = {
        id: response.body.id,
        tenantId: tenant.tenantId,
        type: body.type,
        body,
        idempotencyKey,
        submitAttempts: response.attempts,
        cancelRequested: false,
      };
      this.accepted.set(job.id, job);
      const cancelEvery = this.options.cancelEvery ?? 10;
      if (cancelEvery > 0 && n % cancelEvery === cancelEvery - 1) {
        const cancelled = await client.request(`/api/jobs/${job.id}`, { method: 'DELETE', headers: tenant.headers, retry: true });
        // 409: it had already finished, which is fine.
        job.cancelRequested = cancelled.status < 300;
      }
    } catch (err) {
      this.errors.push((err as Error).message);
    }
  }
}
