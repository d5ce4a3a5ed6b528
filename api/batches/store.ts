/**
 * The SQL of batches. Callers pass a tenant transaction (`withTenant`), and every query names the
 * tenant as well, so isolation holds twice. A batch's counts come from its jobs (index
 * `jobs_batch_index`); its `unfinished` count is kept by a trigger (migrations/0013_batches.ts).
 */
import type { Knex } from 'knex';
import type { ListCursor } from '../../shared/list-cursor.ts';
import { JOB_BODY_COLUMNS, type JobBodyFields } from '../../shared/jobs/job-body.ts';
import { JOB_STATUSES, type JobStatus } from '../../shared/jobs/types.ts';

/** A row of `batches`. */
export interface BatchRow {
  id: string;
  tenant_id: string;
  total: number;
  unfinished: number;
  labels: Record<string, string>;
  idempotency_key: string | null;
  request_hash: string | null;
  completed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** A batch's jobs by status, and when the first and last of them finished. */
export interface BatchTally {
  counts: Record<JobStatus, number>;
  firstFinishedAt: Date | null;
  lastFinishedAt: Date | null;
}

/** Inserts a batch; undefined when its idempotency key is taken (a concurrent request won). */
export async function insertBatch(
  trx: Knex.Transaction,
  batch: { id: string; tenantId: string; total: number; labels: Record<string, string>; idempotencyKey: string | null; requestHash: string | null },
): Promise<BatchRow | undefined> {
  const { rows } = await trx.raw<{ rows: BatchRow[] }>(
    `insert into batches (id, tenant_id, total, unfinished, labels, idempotency_key, request_hash)
     values (?, ?, ?, ?, ?::jsonb, ?, ?)
     on conflict (tenant_id, idempotency_key) where idempotency_key is not null do nothing
     returning *`,
    [batch.id, batch.tenantId, batch.total, batch.total, JSON.stringify(batch.labels), batch.idempotencyKey, batch.requestHash],
  );
  return rows[0];
}

export async function findBatch(db: Knex | Knex.Transaction, tenantId: string, id: string): Promise<BatchRow | undefined> {
  return db('batches').where({ tenant_id: tenantId, id }).first<BatchRow | undefined>();
}

export async function findBatchByKey(db: Knex | Knex.Transaction, tenantId: string, key: string): Promise<BatchRow | undefined> {
  return db('batches').where({ tenant_id: tenantId, idempotency_key: key }).first<BatchRow | undefined>();
}

/** The ids of a batch's jobs in request order. */
export async function batchJobIds(db: Knex | Knex.Transaction, tenantId: string, batchId: string): Promise<string[]> {
  const rows = (await db('jobs').where({ tenant_id: tenantId, batch_id: batchId }).orderBy('batch_index').select('id')) as Array<{ id: string }>;
  return rows.map((r) => r.id);
}

export async function tallyBatch(db: Knex | Knex.Transaction, tenantId: string, batchId: string): Promise<BatchTally> {
  const rows = (await db('jobs')
    .where({ tenant_id: tenantId, batch_id: batchId })
    .groupBy('status')
    .select('status', db.raw('count(*)::int as n'), db.raw('min(finished_at) as first'), db.raw('max(finished_at) as last'))) as Array<{
    status: JobStatus;
    n: number;
    first: Date | null;
    last: Date | null;
  }>;
  const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
  let first: Date | null = null;
  let last: Date | null = null;
  for (const row of rows) {
    counts[row.status] = row.n;
    if (row.first && (!first || row.first < first)) first = row.first;
    if (row.last && (!last || row.last > last)) last = row.last;
  }
  return { counts, firstFinishedAt: first, lastFinishedAt: last };
}

/** A batch as listed, with its cursor position. */
export type ListedBatch = BatchRow & { cursor_at: string };

/** A page of batches, newest first, and the next page's cursor (undefined on the last one). */
export async function listBatches(
  db: Knex | Knex.Transaction,
  tenantId: string,
  options: { after?: ListCursor; limit: number },
): Promise<{ rows: ListedBatch[]; next?: ListCursor }> {
  const query = db('batches')
    .where('tenant_id', tenantId)
    .select<ListedBatch[]>('*', db.raw(`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at`))
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(options.limit + 1);
  if (options.after) query.andWhereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [options.after.at, options.after.id]);
  const rows = await query;
  const page = rows.slice(0, options.limit);
  const last = page[page.length - 1];
  return { rows: page, next: rows.length > options.limit && last ? { at: last.cursor_at, id: last.id } : undefined };
}

/** A job of a batch as its results stream lists it. */
export type BatchResultRow = JobBodyFields & { batch_index: number; result_summary: Record<string, unknown> | null };

/** The next `limit` jobs of a batch after `afterIndex`, in request order, with their results' summaries. */
export async function batchResultPage(
  db: Knex | Knex.Transaction,
  tenantId: string,
  batchId: string,
  afterIndex: number,
  limit: number,
): Promise<BatchResultRow[]> {
  return (await db('jobs as j')
    .leftJoin('job_results as r', function joinResult() {
      this.on('r.job_id', 'j.id').andOn('r.tenant_id', 'j.tenant_id').andOnVal('j.status', 'completed');
    })
    .where({ 'j.tenant_id': tenantId, 'j.batch_id': batchId })
    .andWhere('j.batch_index', '>', afterIndex)
    .orderBy('j.batch_index')
    .limit(limit)
    .select(...JOB_BODY_COLUMNS.map((c) => `j.${c}`), 'j.batch_index', 'r.summary as result_summary')) as BatchResultRow[];
}
