/**
 * Retention: finished jobs (their results go with them) and finished webhook deliveries older
 * than the tenant's plan allows (`plans.retention_days`; -1 keeps everything) are deleted, a
 * batch per statement so no statement holds many locks or runs long. Queued and running jobs and
 * pending deliveries are never touched, however old.
 *
 * A batch's jobs are kept as long as their batch, so a batch is never seen with some of its jobs
 * gone: once the batch is complete (its last job final) and older than the plan keeps, by its
 * `completed_at`, it goes with all its jobs in one statement. An unfinished batch keeps all of
 * its jobs, finished or not.
 *
 * Refresh tokens go a whole session (token family) at a time, once every token of the family has
 * expired: a used token must outlive its session's newest token, because presenting it again is
 * how reuse is detected (and the family revoked); once all have expired, nothing of the session
 * can be spent or reused.
 */
import type { BlobBackend } from '../shared/blobs/index.ts';
import type { Db } from '../shared/db.ts';
import { MAX_BATCH_JOBS } from '../shared/wire/batches.ts';
import { retentionDeleted } from './metrics.ts';

export interface RetentionOptions {
  /** Rows per delete statement. @defaultValue 1000 */
  batchSize?: number;
  /** Stops between batches when aborted (shutdown). */
  signal?: AbortSignal;
  /** Removes the bytes of deleted blobs kept outside PostgreSQL. @defaultValue none (PostgreSQL's chunks go with their rows) */
  blobs?: BlobBackend;
}

export interface RetentionReport {
  /** Jobs of no batch. */
  jobs: number;
  /** Completed batches, with their jobs (counted in `batchJobs`). */
  batches: number;
  batchJobs: number;
  deliveries: number;
  refreshTokens: number;
  /** Lattice versions no lattice holds and no job references any more. */
  latticeVersions: number;
  /** Blobs no lattice version, job or artefact references any more. */
  blobs: number;
  /** Notifications mailed more than NOTIFICATION_KEEP_DAYS ago. */
  notifications: number;
}

/**
 * Days a mailed notification is kept. Past two months no key can be recorded again (a quota
 * warning's key names its month), so deleting it cannot make anyone be mailed twice.
 */
export const NOTIFICATION_KEEP_DAYS = 62;

const FINISHED_JOB = `j.status in ('completed', 'failed', 'cancelled')`;
const FINISHED_DELIVERY = `d.status in ('succeeded', 'failed')`;

/** One batch of jobs of no batch past retention (finished_at, or updated_at for a row that lacks it). */
const DELETE_JOBS = `
  delete from jobs where id in (
    select j.id from jobs j
    join tenants t on t.id = j.tenant_id
    join plans p on p.code = t.plan_code
    where ${FINISHED_JOB}
      and j.batch_id is null
      and p.retention_days >= 0
      and coalesce(j.finished_at, j.updated_at) < now() - make_interval(days => p.retention_days)
    limit ?
  )`;

/**
 * A few completed batches past retention, with their jobs (and so their results), in one
 * statement; returns how many of each went. A batch has at most 1,000 jobs, so a statement takes
 * at most `?` batches' worth of jobs.
 */
const DELETE_BATCHES = `
  with gone as (
    select b.id from batches b
    join tenants t on t.id = b.tenant_id
    join plans p on p.code = t.plan_code
    where b.completed_at is not null
      and p.retention_days >= 0
      and b.completed_at < now() - make_interval(days => p.retention_days)
    limit ?
    for update of b skip locked
  ), gone_jobs as (
    delete from jobs j using gone where j.batch_id = gone.id returning 1
  ), gone_batches as (
    delete from batches b using gone where b.id = gone.id returning 1
  )
  select (select count(*)::int from gone_batches) as batches, (select count(*)::int from gone_jobs) as jobs`;

async function deleteBatches(db: Db, batchSize: number, signal?: AbortSignal): Promise<{ batches: number; jobs: number }> {
  // About `batchSize` jobs per statement, and at least one batch.
  const perStatement = Math.max(1, Math.floor(batchSize / MAX_BATCH_JOBS));
  const total = { batches: 0, jobs: 0 };
  while (!signal?.aborted) {
    const { rows } = await db.raw<{ rows: Array<{ batches: number; jobs: number }> }>(DELETE_BATCHES, [perStatement]);
    const deleted = rows[0] ?? { batches: 0, jobs: 0 };
    total.batches += deleted.batches;
    total.jobs += deleted.jobs;
    if (deleted.batches < perStatement) break;
  }
  return total;
}

/** One batch of deliveries past retention (by when the event happened). */
const DELETE_DELIVERIES = `
  delete from webhook_deliveries where id in (
    select d.id from webhook_deliveries d
    join tenants t on t.id = d.tenant_id
    join plans p on p.code = t.plan_code
    where ${FINISHED_DELIVERY}
      and p.retention_days >= 0
      and d.created_at < now() - make_interval(days => p.retention_days)
    limit ?
    for update of d skip locked
  )`;

/** One batch of notifications mailed long enough ago (an unmailed one waits for its mail). */
const DELETE_NOTIFICATIONS = `
  delete from notifications where id in (
    select n.id from notifications n
    where n.dispatched_at is not null and n.created_at < now() - make_interval(days => ${NOTIFICATION_KEEP_DAYS})
    limit ?
  )`;

/** One batch of refresh tokens of sessions whose every token has expired. */
const DELETE_REFRESH_TOKENS = `
  delete from refresh_tokens where id in (
    select r.id from refresh_tokens r
    where r.expires_at < now()
      and not exists (select 1 from refresh_tokens live where live.family_id = r.family_id and live.expires_at >= now())
    limit ?
  )`;

/**
 * One batch of lattice versions neither current (a lattice's) nor referenced by a job: left by
 * jobs past retention. A version that is not current can gain no job, so none is lost.
 */
const DELETE_LATTICE_VERSIONS = `
  delete from lattice_versions where id in (
    select v.id from lattice_versions v
    where not exists (select 1 from lattices l where l.version_id = v.id)
      and not exists (select 1 from jobs j where j.lattice_version_id = v.id)
    limit ?
  )`;

/**
 * One batch of blobs nothing references: no job artefact, no lattice version and no job's inline
 * spec. A blob is written in the transaction that references it, so an unreferenced one can gain
 * no new reference.
 */
const DELETE_BLOBS = `
  delete from blobs where id in (
    select b.id from blobs b
    where not exists (select 1 from job_artefacts a where a.blob_id = b.id)
      and not exists (select 1 from lattice_versions v where v.spec->'obstacles'->>'map' = b.id::text)
      and not exists (select 1 from jobs j where j.lattice->'obstacles'->>'map' = b.id::text)
    limit ?
    for update of b skip locked
  ) returning id, tenant_id`;

async function deleteBlobs(db: Db, batchSize: number, backend: BlobBackend | undefined, signal?: AbortSignal): Promise<number> {
  let total = 0;
  while (!signal?.aborted) {
    const deleted = await db.transaction(async (trx) => {
      const { rows } = await trx.raw<{ rows: Array<{ id: string; tenant_id: string }> }>(DELETE_BLOBS, [batchSize]);
      if (backend && rows.length) await backend.remove(trx, rows.map((r) => ({ id: r.id, tenantId: r.tenant_id })));
      return rows.length;
    });
    total += deleted;
    if (deleted < batchSize) break;
  }
  return total;
}

async function deleteInBatches(db: Db, sql: string, batchSize: number, signal?: AbortSignal): Promise<number> {
  let total = 0;
  while (!signal?.aborted) {
    const result = await db.raw<{ rowCount: number }>(sql, [batchSize]);
    total += result.rowCount;
    if (result.rowCount < batchSize) break;
  }
  return total;
}

export async function applyRetention(db: Db, options: RetentionOptions = {}): Promise<RetentionReport> {
  const batchSize = options.batchSize ?? 1000;
  // Deliveries first: deleting a job sets its deliveries' job_id to null, work we can skip.
  const deliveries = await deleteInBatches(db, DELETE_DELIVERIES, batchSize, options.signal);
  const jobs = await deleteInBatches(db, DELETE_JOBS, batchSize, options.signal);
  const batches = await deleteBatches(db, batchSize, options.signal);
  const refreshTokens = await deleteInBatches(db, DELETE_REFRESH_TOKENS, batchSize, options.signal);
  const notifications = await deleteInBatches(db, DELETE_NOTIFICATIONS, batchSize, options.signal);
  // After the jobs: their versions are free to go.
  const latticeVersions = await deleteInBatches(db, DELETE_LATTICE_VERSIONS, batchSize, options.signal);
  // Last: the jobs and versions that held them are gone.
  const blobs = await deleteBlobs(db, batchSize, options.blobs, options.signal);
  retentionDeleted.inc({ table: 'webhook_deliveries' }, deliveries);
  retentionDeleted.inc({ table: 'jobs' }, jobs + batches.jobs);
  retentionDeleted.inc({ table: 'batches' }, batches.batches);
  retentionDeleted.inc({ table: 'refresh_tokens' }, refreshTokens);
  retentionDeleted.inc({ table: 'lattice_versions' }, latticeVersions);
  retentionDeleted.inc({ table: 'blobs' }, blobs);
  retentionDeleted.inc({ table: 'notifications' }, notifications);
  return { jobs, batches: batches.batches, batchJobs: batches.jobs, deliveries, refreshTokens, latticeVersions, blobs, notifications };
}
