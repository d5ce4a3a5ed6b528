/**
 * Repairs Redis from PostgreSQL, periodically and one process at a time: re-queues `queued` jobs
 * Redis lost, fails `running` jobs no live worker holds, and puts tenants with queued work back in
 * the ready set. See docs/architecture.md › Losing nothing.
 */
import type { Knex } from 'knex';
import { queuedJobOf } from '../shared/jobs/job-memory.ts';
import { finishJob } from '../shared/jobs/transitions.ts';
import type { JobRow } from '../shared/jobs/types.ts';
import { jobsFinished } from '../shared/metrics.ts';
import { publishJobUpdate } from '../shared/queues/job-updates.ts';
import { tenantQueueKey } from '../shared/queues/names.ts';
import { JobProducer } from '../shared/queues/producer.ts';
import { markTenantReady, readTenantQueueState, touchActiveTenants } from '../shared/queues/ready-set.ts';
import type { Runtime } from '../shared/runtime.ts';
import type { DeliveryDispatcher } from '../shared/webhooks/job-events.ts';

export interface ReconcileOptions {
  /**
   * Queued rows younger than this are left alone: their API request may still be queueing them.
   * @defaultValue 5000
   */
  queuedMinAgeMs?: number;
  /**
   * A running row whose heartbeat is older than this has no live worker.
   * @defaultValue 2 × JOB_LOCK_MS
   */
  staleAfterMs?: number;
  /**
   * Rows read per query.
   * @defaultValue 500
   */
  batchSize?: number;
  /** Sends the webhook deliveries of jobs failed here; without one the scheduler's retry job sends them. */
  dispatcher?: DeliveryDispatcher;
  /** Stops between batches when aborted. */
  signal?: AbortSignal;
}

export interface ReconcileCounts {
  /** Queued jobs put back on their queue. */
  requeued: number;
  /** Running jobs failed as lost (`worker_lost`). */
  failed: number;
  /** True when another process was reconciling and this call did nothing. */
  skipped?: boolean;
}

/** Arbitrary but fixed: the advisory lock that keeps reconciles apart. */
const RECONCILE_LOCK_KEY = 7_242_015_005;

interface RowRef {
  id: string;
  tenant_id: string;
  type: string;
  created_at: Date;
  updated_at: Date;
  /** The chunk entry carrying the job, if any (docs/architecture.md › Batches). */
  queue_entry: string | null;
}

export async function reconcile(runtime: Runtime, options: ReconcileOptions = {}): Promise<ReconcileCounts> {
  const { db } = runtime;
  return db.transaction(async (lock) => {
    const { rows } = await lock.raw<{ rows: Array<{ locked: boolean }> }>('select pg_try_advisory_xact_lock(?) as locked', [RECONCILE_LOCK_KEY]);
    if (!rows[0]?.locked) return { requeued: 0, failed: 0, skipped: true };
    const producer = new JobProducer(runtime.redis, runtime.config.REDIS_PREFIX, runtime.logger);
    try {
      const requeued = await requeueLost(runtime, producer, options);
      const failed = await failAbandoned(runtime, options);
      await repairReadySet(runtime, db);
      if (requeued || failed) runtime.logger.info({ requeued, failed }, 'reconcile repaired jobs');
      return { requeued, failed };
    } finally {
      await producer.close();
    }
  });
}

/** Pages through rows by id (the order does not matter here, only that each row comes once). */
async function* pages(query: () => Knex.QueryBuilder, batchSize: number, signal?: AbortSignal): AsyncGenerator<RowRef[]> {
  let after: string | undefined;
  for (;;) {
    if (signal?.aborted) return;
    const q = query().select('id', 'tenant_id', 'type', 'created_at', 'updated_at', 'queue_entry').orderBy('id').limit(batchSize);
    if (after) q.andWhere('id', '>', after);
    const rows = (await q) as RowRef[];
    if (rows.length === 0) return;
    yield rows;
    after = (rows[rows.length - 1] as RowRef).id;
    if (rows.length < batchSize) return;
  }
}

/**
 * Whether each row's queue entry exists: its own, or the chunk's that carries it (a job retried
 * out of a chunk has an entry of its own, so both are looked at).
 */
async function jobKeysExist(runtime: Runtime, rows: readonly RowRef[], suffix = ''): Promise<boolean[]> {
  const prefix = runtime.config.REDIS_PREFIX;
  const exists = async (tenantId: string, id: string) => (await runtime.redis.exists(tenantQueueKey(prefix, tenantId, `${id}${suffix}`))) === 1;
  // One command per key (keys of different tenants live in different cluster slots).
  return Promise.all(rows.map(async (row) => (row.queue_entry !== null && (await exists(row.tenant_id, row.queue_entry))) || (await exists(row.tenant_id, row.id))));
}

async function requeueLost(runtime: Runtime, producer: JobProducer, options: ReconcileOptions): Promise<number> {
  const { db } = runtime;
  const minAge = new Date(Date.now() - (options.queuedMinAgeMs ?? 5000));
  let requeued = 0;
  const queued = () => db('jobs').where('status', 'queued').andWhere('created_at', '<=', minAge);
  for await (const rows of pages(queued, options.batchSize ?? 500, options.signal)) {
    const present = await jobKeysExist(runtime, rows);
    const lost = rows.filter((_, i) => !present[i]);
    for (const ref of lost) {
      // The spec and parameters size the job's memory reservation; lost rows are few.
      const row = (await db('jobs').where('id', ref.id).first('id', 'tenant_id', 'type', 'lattice', 'params')) as JobRow | undefined;
      if (!row) continue;
      await producer.enqueue(queuedJobOf(row, runtime.config.KERNEL_THREADS));
      requeued++;
    }
  }
  return requeued;
}

async function failAbandoned(runtime: Runtime, options: ReconcileOptions): Promise<number> {
  const { db, redis, config, logger } = runtime;
  const staleBefore = new Date(Date.now() - (options.staleAfterMs ?? 2 * config.JOB_LOCK_MS));
  let failed = 0;
  const stale = () => db('jobs').where('status', 'running').andWhere('updated_at', '<', staleBefore);
  for await (const rows of pages(stale, options.batchSize ?? 500, options.signal)) {
    const [present, locked] = await Promise.all([jobKeysExist(runtime, rows), jobKeysExist(runtime, rows, ':lock')]);
    for (const [i, row] of rows.entries()) {
      if (locked[i]) continue;
      if (present[i]) {
        // Unlocked but still in Redis: the stalled check gives it back; make sure workers check it.
        await touchActiveTenants(redis, config.REDIS_PREFIX, [row.tenant_id]);
        await markTenantReady(redis, config.REDIS_PREFIX, row.tenant_id, 0);
        continue;
      }
      const finished = await db.transaction((trx) =>
        finishJob(trx, {
          tenantId: row.tenant_id,
          jobId: row.id,
          status: 'failed',
          from: ['running'],
          unchangedSince: row.updated_at,
          error: { code: 'worker_lost', message: 'The worker running the job stopped and the job was lost from the queue' },
        }),
      );
      if (!finished) continue;
      failed++;
      const plan = (await db('tenants').where({ id: row.tenant_id }).first<{ plan_code: string } | undefined>('plan_code'))?.plan_code ?? 'unknown';
      jobsFinished.inc({ type: row.type, status: 'failed', plan });
      logger.warn({ jobId: row.id, tenantId: row.tenant_id }, 'job failed: its worker is gone and Redis lost it');
      if (finished.deliveryIds.length > 0) await options.dispatcher?.dispatch(finished.deliveryIds);
      await publishJobUpdate(redis, config.REDIS_PREFIX, { id: row.id, status: 'failed', progress: finished.row.progress, version: finished.row.state_version }, logger);
    }
  }
  return failed;
}

/** Puts every tenant with queued or retrying jobs back in the ready set. */
async function repairReadySet(runtime: Runtime, db: Knex): Promise<void> {
  const { redis, config } = runtime;
  const tenants = (await db('jobs').where('status', 'queued').distinct('tenant_id')) as Array<{ tenant_id: string }>;
  for (const { tenant_id } of tenants) {
    const state = await readTenantQueueState(redis, config.REDIS_PREFIX, tenant_id);
    if (state.runnable > 0) await markTenantReady(redis, config.REDIS_PREFIX, tenant_id, 0);
    else if (state.delayedUntil !== undefined) await markTenantReady(redis, config.REDIS_PREFIX, tenant_id, state.delayedUntil);
  }
}
