/**
 * Reading and creating job rows. Callers pass a tenant transaction (`withTenant`) for tenant
 * requests, and every query names the tenant as well, so isolation holds twice.
 */
import type { Knex } from 'knex';
import { type Db, executeAsTenant, readAsTenant, sql } from '../db.ts';
import type { ListCursor } from '../list-cursor.ts';
import { USAGE_METRICS, usageDay } from '../usage.ts';
import type { LatticeSpec } from '../lattice/types.ts';
import type { JobBodyFields } from './job-body.ts';
import { LIST_FILTERS, pageText, plannedFilterCondition, preparedPage } from './list-statements.ts';
import type { JobRow, JobStatus } from './types.ts';

/** What a new job row holds. */
export interface NewJob {
  /** The row's id; given by the caller so rows of one multi-row insert map back to their requests. */
  id: string;
  tenantId: string;
  latticeId: string | null;
  /** The stored lattice's version the job runs on; null with an inline spec. */
  latticeVersionId: string | null;
  type: string;
  /** The inline spec; null on a stored lattice (the version holds it). */
  lattice: LatticeSpec | null;
  params: Record<string, unknown>;
  cells: number;
  /** Working memory the job reserves on a worker (see shared/jobs/job-memory.ts). */
  memoryBytes: number;
  /** Compute units the job is charged at acceptance (shared/compute-units.ts); not a column. */
  computeUnits: number;
  maxAttempts: number;
  idempotencyKey: string | null;
  requestHash: string | null;
  /** The batch it belongs to, and the chunk entry that carries it (docs/architecture.md › Batches). */
  batchId?: string | null;
  batchIndex?: number | null;
  /** Labels to find it by; none is stored as null. */
  labels?: Record<string, string> | null;
  /** Artefacts the body asked for; none is stored as null. */
  artefacts?: readonly string[] | null;
  queueEntry?: string | null;
}

/** Columns `insertJobs` reads back: all but the lattice and parameters, which the caller has. */
const INSERTED_COLUMN_NAMES = [
  'id',
  'tenant_id',
  'lattice_id',
  'lattice_version_id',
  'type',
  'status',
  'cells',
  'memory_bytes',
  'progress',
  'attempts',
  'max_attempts',
  'idempotency_key',
  'request_hash',
  'error',
  'worker_id',
  'cancel_requested_at',
  'started_at',
  'finished_at',
  'queue_wait_ms',
  'run_ms',
  'batch_id',
  'batch_index',
  'queue_entry',
  'labels',
  'artefacts',
  'created_at',
  'updated_at',
  'state_version',
] as const satisfies ReadonlyArray<Exclude<keyof JobRow, 'lattice' | 'params'>>;
// Every other column of JobRow must be listed: a column added to JobRow and not here fails to compile.
const everyColumnListed: [Exclude<keyof JobRow, 'lattice' | 'params' | (typeof INSERTED_COLUMN_NAMES)[number]>] extends [never] ? true : never = true;
void everyColumnListed;
/** The columns `insertJobs` and `writeJobsAsTenant` (insert-statement.ts) read back, as a select list. */
export const INSERTED_COLUMNS = INSERTED_COLUMN_NAMES.join(', ');

/**
 * Inserts a job and counts it in the tenant's usage (`jobs.<type>` today), in one statement.
 * With an idempotency key already used by the tenant, nothing is inserted or counted and
 * undefined is returned (the caller reads the existing job): the partial unique index decides,
 * so two concurrent requests with the same key create one job.
 */
export async function insertJob(trx: Knex.Transaction, job: NewJob): Promise<JobRow | undefined> {
  return (await insertJobs(trx, [job]))[0];
}

/**
 * Inserts jobs of one tenant with one multi-row statement that also adds them to the tenant's
 * usage: one upsert per job type, by the number of that type's rows actually inserted (a job
 * whose idempotency key is taken is neither inserted nor counted). Returns the rows aligned with
 * `jobs`, undefined where the key was taken.
 *
 * The usage rows are upserted in metric order, in the counters' `lane` (USAGE_LANES), so two
 * such statements of one tenant in one lane lock them in the same order and cannot deadlock. The
 * lattice and parameters are not read back: the returned rows carry the caller's objects (a large
 * obstacle list is serialised once).
 */
export async function insertJobs(trx: Knex.Transaction, jobs: readonly NewJob[], lane = 0): Promise<Array<JobRow | undefined>> {
  if (jobs.length === 0) return [];
  const rows = await insertAndCount<Omit<JobRow, 'lattice' | 'params'>>(trx, jobs, INSERTED_COLUMNS, lane);
  const byId = new Map(rows.map((row) => [row.id, row] as const));
  return jobs.map((job) => {
    const row = byId.get(job.id);
    return row && { ...row, lattice: job.lattice, params: job.params };
  });
}

/**
 * `insertJobs` for jobs without idempotency keys (a batch's): the same one statement, reading
 * back only how many rows it inserted, not a row per job.
 */
export async function insertKeylessJobs(trx: Knex.Transaction, jobs: readonly NewJob[]): Promise<number> {
  if (jobs.length === 0) return 0;
  if (jobs.some((job) => job.idempotencyKey !== null)) throw new Error('insertKeylessJobs takes jobs without idempotency keys');
  return (await insertAndCount<{ id: string }>(trx, jobs, 'id', 0)).length;
}

/**
 * The insert and usage upsert of `insertJobs`. The rows travel as one array per column, unpacked
 * by `unnest`: a statement of twenty parameters whatever the number of jobs, where a multi-row
 * VALUES list had twenty per job for knex to number and PostgreSQL to parse (a batch of 1,000 jobs
 * was 18,000). Jobs that share one lattice object serialise it once.
 */
async function insertAndCount<Row>(trx: Knex.Transaction, jobs: readonly NewJob[], returning: string, lane: number): Promise<Row[]> {
  const serialised = new Map<LatticeSpec, string>();
  const latticeJson = (lattice: LatticeSpec | null): string | null => {
    if (lattice === null) return null;
    let text = serialised.get(lattice);
    if (text === undefined) serialised.set(lattice, (text = JSON.stringify(lattice)));
    return text;
  };
  // pg sends a JavaScript array as one array parameter; knex's types know only arrays without nulls.
  const column = <T>(pick: (job: NewJob) => T): string[] => jobs.map(pick) as unknown as string[];
  const result = await trx.raw<{ rows: Row[] }>(
    `with input as (
       select * from unnest(?::uuid[], ?::uuid[], ?::uuid[], ?::uuid[], ?::text[], ?::jsonb[], ?::jsonb[], ?::bigint[], ?::bigint[], ?::integer[],
                            ?::text[], ?::text[], ?::uuid[], ?::integer[], ?::jsonb[], ?::text[], ?::jsonb[])
         as i(id, tenant_id, lattice_id, lattice_version_id, type, lattice, params, cells, memory_bytes, max_attempts,
              idempotency_key, request_hash, batch_id, batch_index, labels, queue_entry, artefacts)),
     job as (
       insert into jobs (id, tenant_id, lattice_id, lattice_version_id, type, status, lattice, params, cells, memory_bytes, max_attempts,
                         idempotency_key, request_hash, batch_id, batch_index, labels, queue_entry, artefacts)
       select id, tenant_id, lattice_id, lattice_version_id, type, 'queued', lattice, params, cells, memory_bytes, max_attempts,
              idempotency_key, request_hash, batch_id, batch_index, labels, queue_entry,
              (select array_agg(name) from jsonb_array_elements_text(artefacts) as name)
       from input
       on conflict (tenant_id, idempotency_key) where idempotency_key is not null do nothing
       returning ${INSERTED_COLUMNS}),
     counted as (
       insert into usage_counters (tenant_id, day, metric, lane, value)
       select tenant_id, ?::date, ? || type, ?::smallint, count(*) from job group by tenant_id, type order by 3
       on conflict (tenant_id, day, metric, lane) do update set value = usage_counters.value + excluded.value, updated_at = now())
     select ${returning} from job`,
    [
      column((j) => j.id),
      column((j) => j.tenantId),
      column((j) => j.latticeId),
      column((j) => j.latticeVersionId),
      column((j) => j.type),
      column((j) => latticeJson(j.lattice)),
      column((j) => JSON.stringify(j.params)),
      column((j) => j.cells),
      column((j) => j.memoryBytes),
      column((j) => j.maxAttempts),
      column((j) => j.idempotencyKey),
      column((j) => j.requestHash),
      column((j) => j.batchId ?? null),
      column((j) => j.batchIndex ?? null),
      column((j) => (j.labels && Object.keys(j.labels).length > 0 ? JSON.stringify(j.labels) : null)),
      column((j) => j.queueEntry ?? null),
      column((j) => (j.artefacts && j.artefacts.length > 0 ? JSON.stringify(j.artefacts) : null)),
      usageDay(),
      USAGE_METRICS.jobsPrefix,
      lane,
    ],
  );
  return result.rows;
}

export async function findJob(db: Knex | Knex.Transaction, tenantId: string, id: string): Promise<JobRow | undefined> {
  return db('jobs').where({ tenant_id: tenantId, id }).first<JobRow | undefined>();
}

export async function findJobByIdempotencyKey(
  db: Knex | Knex.Transaction,
  tenantId: string,
  key: string,
): Promise<JobRow | undefined> {
  return db('jobs').where({ tenant_id: tenantId, idempotency_key: key }).first<JobRow | undefined>();
}

/** `findJobByIdempotencyKey` in one round trip as the tenant (`readAsTenant`), outside any transaction. */
export async function readJobByIdempotencyKey(db: Db, tenantId: string, key: string): Promise<JobRow | undefined> {
  const rows = await readAsTenant<JobRow>(db, tenantId, sql`select * from jobs where tenant_id = ${tenantId} and idempotency_key = ${key}`);
  return rows[0];
}

/** The stored result of a completed job. */
export async function findResult(
  db: Knex | Knex.Transaction,
  tenantId: string,
  jobId: string,
): Promise<Record<string, unknown> | undefined> {
  const row = await db('job_results').where({ tenant_id: tenantId, job_id: jobId }).first<{ result: Record<string, unknown> } | undefined>('result');
  return row?.result;
}

export interface ListJobsOptions {
  status?: JobStatus;
  type?: string;
  /** Every pair must be among the job's labels (index `jobs_labels`). */
  labels?: Record<string, string>;
  batchId?: string;
  createdAfter?: string;
  after?: ListCursor;
  limit: number;
  /** Called once the read holds its pooled connection, before its query is sent (list-read-sharing.ts). */
  onConnection?: () => void;
}

/** A job as listed: the columns of its public body, its result's summary, and its cursor position. */
export type ListedJob = JobBodyFields & { result_summary: Record<string, unknown> | null; cursor_at: string };

/**
 * A page of jobs, newest first, and the cursor of the next page (undefined on the last one).
 * Only the columns of the public body are read, and of a result only its summary (a generated
 * column of scalar fields): the spec, parameters and result bodies stay in the database.
 *
 * One round trip with the role and tenant set in the same query string, so row-level security
 * decides what is listed, not a transaction's four: the list is the one read besides a job poll
 * that polling clients make most. The page is a prepared statement, planned once per connection
 * (`executeAsTenant`, list-statements.ts), one per combination of filters; the filters, validated
 * by the route's schema, are its arguments as escaped literals (`sql`). A list with a label
 * filter, or a page larger than every prepared size (the route allows none), is planned each time
 * (`readAsTenant`), its filters in the text as escaped literals.
 */
export async function listJobs(db: Db, tenantId: string, options: ListJobsOptions): Promise<{ rows: ListedJob[]; next?: ListCursor }> {
  if (!Number.isInteger(options.limit) || options.limit < 1) throw new Error('listJobs needs a positive whole limit');
  // Each filter given, as an escaped literal, in LIST_FILTERS order: the order of the prepared
  // statement's parameters.
  const given = LIST_FILTERS.flatMap((name) => {
    const value = options[name];
    return value === undefined ? [] : [{ name, arg: sql`${value}` }];
  });
  // A label filter is planned each time (list-statements.ts says why).
  const prepared = options.labels ? undefined : preparedPage(options.limit, options.after !== undefined, new Set(given.map((f) => f.name)));
  let rows: ListedJob[];
  if (prepared) {
    const cursor = options.after ? [sql`${options.after.at}`, sql`${options.after.id}`] : [];
    rows = await executeAsTenant<ListedJob>(db, tenantId, prepared.statement, [sql`${tenantId}`, ...given.map((f) => f.arg), ...cursor], options.onConnection);
  } else {
    const filters = given.map((f) => ({ text: plannedFilterCondition(f.name, f.arg.text) }));
    if (options.labels) filters.push(sql`j.labels @> ${JSON.stringify(options.labels)}::jsonb`);
    if (options.after) filters.push(sql`(j.created_at, j.id) < (${options.after.at}::timestamptz, ${options.after.id}::uuid)`);
    // The page is cut before the join, so results are looked up for its rows only, whatever plan
    // the page itself gets (stale statistics can make it a sort of all of the tenant's rows).
    const where = [sql`j.tenant_id = ${tenantId}`, ...filters].map((f) => f.text).join(' and ');
    rows = await readAsTenant<ListedJob>(db, tenantId, { text: pageText(where, options.limit + 1) }, options.onConnection);
  }
  // A prepared page may read more rows than asked: past the next page's marker they are dropped.
  const page = rows.slice(0, options.limit);
  const last = page[page.length - 1];
  return {
    rows: page,
    next: rows.length > options.limit && last ? { at: last.cursor_at, id: last.id } : undefined,
  };
}
