/**
 * What the job routes do, apart from HTTP: submit (validate, check the plan, write the row, then
 * queue it), cancel, and wait for a job to finish. One instance per API (built with its
 * dependencies in api/deps.ts), shared by the job and lattice routes.
 */
import { createHash } from 'node:crypto';
import type { Principal } from '../../shared/auth/principal.ts';
import { withTenant } from '../../shared/db.ts';
import { AppError } from '../../shared/errors.ts';
import type { JobBody } from '../../shared/jobs/job-body.ts';
import { queuedJobOf } from '../../shared/jobs/job-memory.ts';
import { findJob, readJobByIdempotencyKey } from '../../shared/jobs/repository.ts';
import { finishJob } from '../../shared/jobs/transitions.ts';
import { isFinalStatus, type JobRow } from '../../shared/jobs/types.ts';
import { jobsFinished } from '../../shared/metrics.ts';
import type { Plan } from '../../shared/plans.ts';
import { JobUpdateWatcher, publishJobUpdate } from '../../shared/queues/job-updates.ts';
import { pipelineChannels } from '../../shared/queues/names.ts';
import { JobProducer } from '../../shared/queues/producer.ts';
import type { RedisClient } from '../../shared/redis.ts';
import type { Runtime } from '../../shared/runtime.ts';
import { anyUsageLane, usageLane } from '../../shared/usage.ts';
import { createWebhookDispatcher, type WebhookDispatcher } from '../../shared/webhooks/dispatcher.ts';
import { type BulkCancel, type CancelFilter, cancelJobsWhere } from './bulk-cancel.ts';
import { HeldPollLeases } from './held-poll-leases.ts';
import { HeldPolls } from './held-polls.ts';
import { JobStateCache } from './job-state-cache.ts';
import { SubmitBatcher } from './submit-batcher.ts';
import { type Submission, type SubmitInput, SubmissionWriter } from './submit-writer.ts';

export type { SubmitInput } from './submit-writer.ts';
export { lockTenant, quotaExactMargin } from './submit-quota.ts';

export interface Submitted {
  row: JobRow;
  /** True when an earlier request with the same Idempotency-Key created the job. */
  replayed: boolean;
}

export type CancelOutcome = { kind: 'cancelled' | 'cancelling'; row: JobRow };

export class JobsService {
  readonly producer: JobProducer;
  readonly watcher: JobUpdateWatcher;
  /** Job reads answered from memory while the job's state version stands (job-state-cache.ts). */
  readonly states: JobStateCache;
  /** Long polls of one job (held-polls.ts). */
  readonly heldPolls: HeldPolls;
  private readonly dispatcher: WebhookDispatcher;
  private readonly writer: SubmissionWriter;
  /** Group commit of submissions without an Idempotency-Key; absent when SUBMIT_BATCH_MAX is 1. */
  private readonly batcher: SubmitBatcher<Submission, JobRow | undefined> | undefined;

  constructor(
    private readonly runtime: Runtime,
    private readonly plans: { get(code: string): Promise<Plan>; all(): Promise<Plan[]> },
    /** The per-request connection for reads whose order does not matter (identity.ts). */
    perRequestRedis: RedisClient = runtime.redis,
  ) {
    const { redis, config, logger } = runtime;
    this.producer = new JobProducer(redis, config.REDIS_PREFIX, logger);
    this.watcher = new JobUpdateWatcher(redis, config.REDIS_PREFIX, logger);
    this.states = new JobStateCache(runtime.db, redis, config.REDIS_PREFIX, logger, {}, perRequestRedis);
    this.heldPolls = new HeldPolls(this.states, this.watcher, {
      maxPerTenant: config.JOB_WAIT_MAX_PER_TENANT,
      leases: new HeldPollLeases(redis, config.REDIS_PREFIX),
      logger,
    });
    this.dispatcher = createWebhookDispatcher(runtime);
    this.writer = new SubmissionWriter(runtime, this.producer);
    const writer = this.writer;
    this.batcher =
      config.SUBMIT_BATCH_MAX > 1
        ? new SubmitBatcher<Submission, JobRow | undefined>(
            {
              // A key's writes in flight hold different slots, so they count in different lanes.
              write: (_key, submissions, slot) => writer.write(submissions, usageLane(slot)),
              publish: (key, rows) => writer.publish(tenantOfBatchKey(key), rows),
            },
            config.SUBMIT_BATCH_MAX,
            config.SUBMIT_WRITES_PER_TENANT,
          )
        : undefined;
  }

  /**
   * Validates a job against the engine and the tenant's plan, writes its row (counting it as
   * usage in the same statement), then queues it. A row whose queueing fails stays `queued`:
   * reconcile puts it on its queue, so the client's 202 holds either way.
   *
   * Submissions without an Idempotency-Key are written together with the tenant's concurrent
   * ones (submit-batcher.ts); each still gets its own row or its own refusal, and is answered once
   * its row is committed, while its queueing follows in the background. Keyed submissions are
   * written and queued alone, so the key's first-writer-wins and replay rules stay as they are.
   */
  async submit(principal: Principal, input: SubmitInput, idempotencyKey: string | undefined, requestPath: string): Promise<Submitted> {
    const { tenantId } = principal;
    const { db } = this.runtime;
    const [plan, plans] = await Promise.all([this.plans.get(principal.planCode), this.plans.all()]);
    const requestHash = idempotencyKey ? hashRequest(requestPath, input) : null;
    if (idempotencyKey) {
      const earlier = await readJobByIdempotencyKey(db, tenantId, idempotencyKey);
      if (earlier) return this.replay(earlier, requestHash);
    }

    const base = { tenantId, plan, plans, input, idempotencyKey: idempotencyKey ?? null, requestHash };
    // An inline lattice is checked before joining a write: an invalid job is refused on its own.
    const submission: Submission = input.lattice_id ? base : { ...base, job: this.writer.prepareInline(base) };
    const row = idempotencyKey || !this.batcher ? await this.writeAlone(submission) : await this.batcher.submit(batchKey(tenantId, plan), submission);
    if (!row) {
      // A concurrent request with the same key won the insert.
      const earlier = await readJobByIdempotencyKey(db, tenantId, idempotencyKey as string);
      if (!earlier) throw new AppError('conflict', 'The Idempotency-Key is in use by a request still running; retry');
      return this.replay(earlier, requestHash);
    }
    return { row, replayed: false };
  }

  /**
   * Resolves once every submission this process has answered — of `tenantId`, or of every tenant —
   * has been through its queueing (queued, or its failure logged for reconcile).
   */
  submissionsQueued(tenantId?: string): Promise<void> {
    return this.batcher?.published((key) => tenantId === undefined || tenantOfBatchKey(key) === tenantId) ?? Promise.resolve();
  }

  /** Writes and queues one submission by itself. */
  private async writeAlone(submission: Submission): Promise<JobRow | undefined> {
    const [outcome] = await this.writer.write([submission], anyUsageLane());
    if (!outcome) throw new Error('a submission write returned no outcome');
    if (!outcome.ok) throw outcome.error;
    if (outcome.value) await this.writer.publish(submission.tenantId, [outcome.value]);
    return outcome.value;
  }

  private async replay(earlier: JobRow, requestHash: string | null): Promise<Submitted> {
    if (earlier.request_hash !== requestHash) {
      throw new AppError('idempotency_conflict', 'This Idempotency-Key was used with a different request', {
        extra: { job_id: earlier.id },
      });
    }
    // The first request may have died between writing the row and queueing it; adding is idempotent.
    if (earlier.status === 'queued') await this.enqueue(earlier).catch(() => undefined);
    return { row: earlier, replayed: true };
  }

  private enqueue(row: JobRow): Promise<void> {
    return this.producer.enqueue(queuedJobOf(row, this.runtime.config.KERNEL_THREADS));
  }

  /**
   * Cancels a job: a queued one is marked cancelled at once and removed from its queue (it never
   * runs); a running one gets its cancel flag, and its worker (whichever process holds it) is told
   * through Redis and stops it within a second. Cancelling a cancelled job is a no-op.
   */
  async cancel(tenantId: string, jobId: string, planCode: string): Promise<CancelOutcome> {
    const { db, redis, config, logger } = this.runtime;
    const outcome = await withTenant(db, tenantId, async (trx) => {
      const finished = await finishJob(trx, { tenantId, jobId, status: 'cancelled', from: ['queued'] });
      if (finished) return { kind: 'cancelled' as const, row: finished.row, deliveryIds: finished.deliveryIds, fresh: true };
      const [running] = (await trx('jobs')
        .where({ tenant_id: tenantId, id: jobId, status: 'running' })
        .update({ cancel_requested_at: trx.raw('coalesce(cancel_requested_at, now())'), updated_at: trx.fn.now() })
        .returning('*')) as JobRow[];
      if (running) return { kind: 'cancelling' as const, row: running, deliveryIds: [], fresh: true };
      const current = await findJob(trx, tenantId, jobId);
      if (!current) throw new AppError('not_found', `No job ${jobId}`);
      if (current.status === 'cancelled') return { kind: 'cancelled' as const, row: current, deliveryIds: [], fresh: false };
      throw new AppError('job_finished', `The job already ${current.status === 'completed' ? 'completed' : 'failed'}`, {
        extra: { job_status: current.status },
      });
    });
    if (outcome.kind === 'cancelled' && outcome.fresh) {
      this.states.forget(tenantId, jobId);
      jobsFinished.inc({ type: outcome.row.type, status: 'cancelled', plan: planCode });
      // A submission is answered before it is queued: let this process's queueing of the tenant's
      // written jobs end first, so that the remove finds the entry (a worker would skip it anyway).
      // A tiny job sharing an entry with others (shared/jobs/coalesced-entries.ts) has none of its
      // own: the entry stays for the others, and the worker's read skips the cancelled row.
      await this.submissionsQueued(tenantId);
      await this.producer.remove(tenantId, jobId).catch((err: unknown) => logger.debug({ err, jobId }, 'could not remove a cancelled job'));
      await this.dispatcher.dispatch(outcome.deliveryIds);
      await publishJobUpdate(redis, config.REDIS_PREFIX, { id: jobId, status: 'cancelled', progress: outcome.row.progress, version: outcome.row.state_version }, logger);
    } else if (outcome.kind === 'cancelling') {
      await redis.publish(pipelineChannels(config.REDIS_PREFIX).cancel, jobId).catch((err: unknown) => {
        // The flag is in the row: the worker also finds it on its next heartbeat.
        logger.warn({ err, jobId }, 'could not publish a cancel request');
      });
    }
    return { kind: outcome.kind, row: outcome.row };
  }

  /**
   * Cancels the tenant's unfinished jobs that match `filter` (at most BULK_CANCEL_MAX a call):
   * queued ones at once, running ones within a second.
   */
  async cancelMany(tenantId: string, filter: CancelFilter): Promise<{ cancelled: number; stopping: number; more: boolean }> {
    const outcome = await withTenant(this.runtime.db, tenantId, (trx) => cancelJobsWhere(trx, tenantId, filter));
    await this.afterBulkCancel(outcome);
    return { cancelled: outcome.cancelled, stopping: outcome.stopping.length, more: outcome.more };
  }

  /** After a bulk cancel commits: its events go out and the workers of its running jobs are told. */
  async afterBulkCancel(outcome: BulkCancel): Promise<void> {
    const { redis, config, logger } = this.runtime;
    // State versions before anyone is told (job-state-cache.ts): no API process may then answer a cancelled job as queued.
    await Promise.all(
      outcome.finished.map((job) => publishJobUpdate(redis, config.REDIS_PREFIX, { id: job.id, status: 'cancelled', progress: job.progress, version: job.version }, logger)),
    );
    await this.dispatcher.dispatch(outcome.deliveryIds);
    const channel = pipelineChannels(config.REDIS_PREFIX).cancel;
    // The flags are in the rows: a worker that misses a message finds them at its next heartbeat.
    await Promise.all(outcome.stopping.map((id) => redis.publish(channel, id))).catch((err: unknown) =>
      logger.warn({ err }, 'could not publish cancel requests'),
    );
  }

  /**
   * The job's body and, once completed, its result: from the job-state cache while the job's
   * state version stands, else one round trip to PostgreSQL (job-reads.ts).
   */
  async read(tenantId: string, jobId: string): Promise<JobBody | undefined> {
    return (await this.states.read(tenantId, jobId))?.body;
  }

  /**
   * Waits up to `waitMs` for a job to reach a final state; resolves with the job as it is then.
   * Follows the job's update channel and re-reads the row at a slowing pace as a fallback.
   */
  async waitForFinal(tenantId: string, jobId: string, waitMs: number): Promise<JobBody | undefined> {
    const deadline = Date.now() + waitMs;
    let wake: (() => void) | undefined;
    let signalled = false;
    const stop = await this.watcher.watch(jobId, (update) => {
      if (!isFinalStatus(update.status)) return;
      signalled = true;
      wake?.();
    });
    try {
      let pollMs = 50;
      for (;;) {
        const current = await this.read(tenantId, jobId);
        if (!current || isFinalStatus(current.status)) return current;
        const left = deadline - Date.now();
        if (left <= 0) return current;
        if (signalled) {
          signalled = false;
          continue;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, pollMs));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        pollMs = Math.min(pollMs * 2, 500);
      }
    } finally {
      stop();
    }
  }

  async close(): Promise<void> {
    this.heldPolls.close();
    // Submissions answered but not yet queued are queued before the queue's connection closes.
    await this.submissionsQueued();
    await Promise.allSettled([this.producer.close(), this.watcher.close(), this.dispatcher.close()]);
  }
}

/** Submissions written together share a tenant and a plan (a plan change splits them for a moment). */
function batchKey(tenantId: string, plan: Plan): string {
  return `${tenantId}/${plan.code}`;
}

function tenantOfBatchKey(key: string): string {
  return key.slice(0, key.indexOf('/'));
}

/** Identifies a request for Idempotency-Key reuse: the same key with another body is a conflict. */
function hashRequest(path: string, input: SubmitInput): string {
  return createHash('sha256').update(JSON.stringify({ path, input })).digest('hex');
}
